"""The OpenAPI 3.1 description of the HTTP API, served at `/v1/openapi.json`.

Generated: the schemas of the answers come from the wire models of `contract`, the
operations below are written from the same constants the server uses (regions, limits, error
codes), so it describes this instance exactly: schema-driven testers (schemathesis) check every
answer against it, which only works if it lists every status, header and media type the server
can produce and nothing it cannot. The bearer security requirement is only declared when an API
key is configured, because an API that declares auth it does not enforce is wrong too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .contract import (
    ERROR_CODES,
    HEALTH_PATH,
    MEDIA_TYPES,
    METRICS_PATH,
    MODEL_SOURCES,
    MULTIPART,
    OCTET_STREAM,
    OPENAPI_PATH,
    RECOGNIZE_PATH,
    SCHEMAS,
)
from .wire import SCHEMA_REF as _REF

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["ERROR_CODES", "MODEL_SOURCES", "MULTIPART", "OCTET_STREAM", "build_openapi"]

_RESPONSES = "#/components/responses/"


def build_openapi(
    *,
    version: str,
    regions: Sequence[str],
    auth_required: bool,
    max_body_bytes: int,
    max_pixels: int,
    max_decoded_pixels: int | None = None,
    default_region: str | None,
    default_min_confidence: float,
) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document (a JSON-ready dict) for one service configuration."""
    protected: dict[str, Any] = {"security": [{"bearerAuth": []}]} if auth_required else {}
    unauthorized = {"401": {"$ref": _RESPONSES + "Unauthorized"}} if auth_required else {}
    recognize = {
        "operationId": "recognize",
        "tags": ["recognition"],
        "summary": "Find and read every licence plate in one image",
        "description": _recognize_description(max_body_bytes, max_pixels, max_decoded_pixels),
        **protected,
        "parameters": _recognize_parameters(regions, default_region, default_min_confidence),
        "requestBody": _recognize_body(),
        "responses": _recognize_responses(unauthorized),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "anpr inference",
            "version": version,
            "summary": "Licence-plate detection and OCR for the anpr Home Assistant integration.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "tags": [
            {"name": "recognition", "description": "Find and read licence plates."},
            {"name": "operations", "description": "Health, metrics and this document."},
        ],
        "paths": {
            HEALTH_PATH: {"get": _health_operation()},
            RECOGNIZE_PATH: {"post": recognize},
            METRICS_PATH: {"get": _metrics_operation(protected, unauthorized)},
            OPENAPI_PATH: {"get": _openapi_operation(protected, unauthorized)},
        },
        "components": _components(),
    }


def _health_operation() -> dict[str, Any]:
    return {
        "operationId": "getHealth",
        "tags": ["operations"],
        "summary": "Service status, models and identity",
        "description": "Never needs the API key, so it can be used to discover "
        "and monitor the service.",
        "security": [],
        "responses": {
            "200": {
                "description": "The service is up.",
                "content": {"application/json": {"schema": {"$ref": _REF + "Health"}}},
            },
            "500": {"$ref": _RESPONSES + "InternalError"},
        },
    }


def _recognize_description(
    max_body_bytes: int, max_pixels: int, max_decoded_pixels: int | None
) -> str:
    return (
        "Send the image as the raw body with its media type, or as the "
        "`image` field of a multipart form. The image's content decides its "
        "format: JPEG, PNG and WebP are accepted whichever of the three is "
        f"declared. A body sent as `{OCTET_STREAM}` (or a multipart part "
        "without an image type) is accepted when its magic bytes are those "
        "of a JPEG, PNG or WebP. Bodies over "
        f"{max_body_bytes} bytes and images over {max_pixels} pixels are "
        "refused with 413"
        + (
            f", and so are PNG and WebP images over {max_decoded_pixels} "
            "pixels (they are decoded whole; large JPEGs are decoded at "
            "reduced scale)."
            if max_decoded_pixels is not None
            else "."
        )
    )


def _recognize_parameters(
    regions: Sequence[str], default_region: str | None, default_min_confidence: float
) -> list[dict[str, Any]]:
    region_default = (
        f"the service's default region (`{default_region}`)"
        if default_region
        else "no region (format correction off)"
    )
    return [
        {
            "name": "region",
            "in": "query",
            "required": False,
            "description": "Plate region whose formats correct look-alike "
            f"characters. Default: {region_default}.",
            "schema": {"type": "string", "enum": list(regions)},
        },
        {
            "name": "min_confidence",
            "in": "query",
            "required": False,
            "description": "Drop plates read with a lower confidence. "
            f"Default: {default_min_confidence:g}.",
            "schema": {"type": "number", "minimum": 0, "maximum": 1},
        },
        {
            "name": "crops",
            "in": "query",
            "required": False,
            "description": "Add a base64 JPEG crop of each plate.",
            "schema": {"type": "boolean", "default": False},
        },
    ]


def _recognize_body() -> dict[str, Any]:
    binary = {"type": "string", "format": "binary"}
    accepted = ", ".join([*MEDIA_TYPES, OCTET_STREAM])
    return {
        "required": True,
        "content": {
            **{media: {"schema": binary} for media in [*MEDIA_TYPES, OCTET_STREAM]},
            MULTIPART: {
                "schema": {
                    "type": "object",
                    "properties": {"image": binary},
                    "required": ["image"],
                },
                "encoding": {"image": {"contentType": accepted}},
            },
        },
    }


def _recognize_responses(unauthorized: dict[str, Any]) -> dict[str, Any]:
    return {
        "200": {
            "description": "Every plate found, best first.",
            "content": {"application/json": {"schema": {"$ref": _REF + "Recognition"}}},
        },
        "400": _error(
            "The image cannot be decoded (`invalid_image`) or a query "
            "parameter is invalid (`invalid_parameter`)."
        ),
        **unauthorized,
        "408": _error(
            "The body did not arrive in time: not all of it within the "
            "service's body timeout, or with too long a pause in it "
            "(`request_timeout`). The connection is closed."
        ),
        "413": _error(
            "The body is larger than the limit (`payload_too_large`) or the "
            "image has more pixels than allowed (`image_too_large`)."
        ),
        "415": _error(
            "The body is not a JPEG, PNG or WebP image, or it is sent "
            "compressed (any `Content-Encoding` but `identity`) "
            "(`unsupported_media_type`)."
        ),
        "500": {"$ref": _RESPONSES + "InternalError"},
        "503": {
            "description": "Every worker is busy and the queue is full, or "
            "too many uploads are being received at once (`overloaded`); try "
            "again after `Retry-After` seconds.",
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                }
            },
            "content": {"application/json": {"schema": {"$ref": _REF + "Error"}}},
        },
    }


def _metrics_operation(protected: dict[str, Any], unauthorized: dict[str, Any]) -> dict[str, Any]:
    return {
        "operationId": "getMetrics",
        "tags": ["operations"],
        "summary": "Prometheus metrics",
        **protected,
        "responses": {
            "200": {
                "description": "Metrics in the Prometheus text format 0.0.4.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            **unauthorized,
            "500": {"$ref": _RESPONSES + "InternalError"},
        },
    }


def _openapi_operation(protected: dict[str, Any], unauthorized: dict[str, Any]) -> dict[str, Any]:
    return {
        "operationId": "getOpenApi",
        "tags": ["operations"],
        "summary": "This document",
        **protected,
        "responses": {
            "200": {
                "description": "The OpenAPI 3.1 document of this API.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            **unauthorized,
            "500": {"$ref": _RESPONSES + "InternalError"},
        },
    }


def _components() -> dict[str, Any]:
    return {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "The API key configured on the service.",
            }
        },
        "responses": {
            "Unauthorized": {
                "description": "The API key is missing or wrong (`unauthorized`).",
                "headers": {
                    "WWW-Authenticate": {
                        "description": "Always `Bearer`.",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                },
                "content": {"application/json": {"schema": {"$ref": _REF + "Error"}}},
            },
            "InternalError": _error("An unexpected failure (`internal_error`)."),
        },
        "schemas": {model.SCHEMA_NAME: model.json_schema() for model in SCHEMAS},
    }


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _REF + "Error"}}},
    }
