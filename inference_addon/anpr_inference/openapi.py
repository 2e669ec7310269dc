"""The OpenAPI 3.1 description of the HTTP API, served at `/v1/openapi.json`.

Written by hand from the same constants the server uses (regions, limits, error codes), so it
describes this instance exactly: schema-driven testers (schemathesis) check every answer
against it, which only works if it lists every status, header and media type the server can
produce and nothing it cannot. The bearer security requirement is only declared when an API
key is configured, because an API that declares auth it does not enforce is wrong too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .imaging import MEDIA_TYPES

if TYPE_CHECKING:
    from collections.abc import Sequence

ERROR_CODES: Final = (
    "invalid_image",
    "invalid_parameter",
    "unauthorized",
    "not_found",
    "method_not_allowed",
    "request_timeout",
    "payload_too_large",
    "image_too_large",
    "unsupported_media_type",
    "overloaded",
    "internal_error",
)
"""Every `error.code` the API can answer with."""

MODEL_SOURCES: Final = ("hub", "file", "embedded")
OCTET_STREAM: Final = "application/octet-stream"
MULTIPART: Final = "multipart/form-data"

_REF = "#/components/schemas/"
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
    binary = {"type": "string", "format": "binary"}
    accepted = ", ".join([*MEDIA_TYPES, OCTET_STREAM])
    region_default = (
        f"the service's default region (`{default_region}`)"
        if default_region
        else "no region (format correction off)"
    )

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
            "/v1/health": {
                "get": {
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
            },
            "/v1/recognize": {
                "post": {
                    "operationId": "recognize",
                    "tags": ["recognition"],
                    "summary": "Find and read every licence plate in one image",
                    "description": (
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
                    ),
                    **protected,
                    "parameters": [
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
                    ],
                    "requestBody": {
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
                    },
                    "responses": {
                        "200": {
                            "description": "Every plate found, best first.",
                            "content": {
                                "application/json": {"schema": {"$ref": _REF + "Recognition"}}
                            },
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
                    },
                }
            },
            "/metrics": {
                "get": {
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
            },
            "/v1/openapi.json": {
                "get": {
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
            },
        },
        "components": {
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
            "schemas": _schemas(regions),
        },
    }


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _REF + "Error"}}},
    }


def _schemas(regions: Sequence[str]) -> dict[str, Any]:
    confidence = {"type": "number", "minimum": 0, "maximum": 1}
    milliseconds = {"type": "number", "minimum": 0}
    model = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "source": {"type": "string", "enum": list(MODEL_SOURCES)},
            "path": {"type": "string"},
        },
        "required": ["name", "source", "path"],
        "additionalProperties": False,
    }
    return {
        "Error": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "enum": list(ERROR_CODES)},
                        "message": {"type": "string"},
                    },
                    "required": ["code", "message"],
                    "additionalProperties": False,
                }
            },
            "required": ["error"],
            "additionalProperties": False,
        },
        "Model": model,
        "Health": {
            "type": "object",
            "properties": {
                "service": {"const": "anpr-inference"},
                "status": {
                    "type": "string",
                    "enum": ["ok", "degraded"],
                    "description": "`degraded` while every worker is busy and the queue is "
                    "full (recognitions get 503 until one finishes): busy, not down.",
                },
                "version": {"type": "string"},
                "instance_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                "models": {
                    "type": "object",
                    "properties": {
                        "detector": {"$ref": _REF + "Model"},
                        "ocr": {"$ref": _REF + "Model"},
                    },
                    "required": ["detector", "ocr"],
                    "additionalProperties": False,
                },
                "workers": {"type": "integer", "minimum": 1},
                "queue": {
                    "type": "object",
                    "description": "`pending`: admitted requests not running on a worker yet; "
                    "`max`: how many may wait before new ones get 503.",
                    "properties": {
                        "pending": {"type": "integer", "minimum": 0},
                        "max": {"type": "integer", "minimum": 0},
                    },
                    "required": ["pending", "max"],
                    "additionalProperties": False,
                },
                "auth_required": {"type": "boolean"},
            },
            "required": [
                "service",
                "status",
                "version",
                "instance_id",
                "models",
                "workers",
                "queue",
                "auth_required",
            ],
            "additionalProperties": False,
        },
        "Box": {
            "type": "object",
            "description": "Pixels of the (upright) image; x2 and y2 are exclusive.",
            "properties": {k: {"type": "integer"} for k in ("x1", "y1", "x2", "y2")},
            "required": ["x1", "y1", "x2", "y2"],
            "additionalProperties": False,
        },
        "Plate": {
            "type": "object",
            "properties": {
                "text": {"type": "string", "description": "As the OCR read it."},
                "normalized": {
                    "type": "string",
                    "description": "Upper case, no spaces or dashes, format-corrected.",
                },
                "confidence": confidence,
                "char_confidences": {
                    "type": "array",
                    "items": confidence,
                    "description": "One per character of `normalized`.",
                },
                "detection_confidence": confidence,
                "box": {"$ref": _REF + "Box"},
                "format": {"type": ["string", "null"]},
                "region": {"enum": [*regions, None]},
                "crop": {
                    "type": "string",
                    "contentEncoding": "base64",
                    "contentMediaType": "image/jpeg",
                    "description": "Only with `crops=true`.",
                },
                "alternatives": {
                    "type": "array",
                    "items": {
                        "type": "array",
                        "items": {"$ref": _REF + "CharAlternative"},
                        "minItems": 1,
                        "maxItems": 3,
                    },
                    "description": "One list per character of `normalized`, at most 3 "
                    "entries: first that character (always `normalized[i]`), then the OCR's "
                    "likeliest other characters at that position, most probable first. `p` "
                    "is the OCR's probability (the mean of the fused models'). The first "
                    "entry is usually the most probable; where the region's format corrected "
                    "the character (a digit where a `br_old` plate needs one and the OCR saw "
                    "a letter), a later one can be more probable: the format, not the image, "
                    "decided it. Characters the region reads as one are one entry with their "
                    "summed probability (on `us`, O is 0). What the list leaves of 1 is on "
                    "other characters or on no character at that position. Empty when the "
                    "OCR gives no probabilities (the embedded text-line OCR).",
                },
                "at_edge": {
                    "type": "boolean",
                    "description": "The plate's detected box comes within 1% of the image's "
                    "edge: the frame may cut the plate.",
                },
                "incomplete": {
                    "type": "boolean",
                    "description": "The read is likely missing characters: `at_edge`, or "
                    "shorter than every plate format of the requested region (`br` 7, `nz` "
                    "6, `in` 8 characters). `false` means no sign of it, not a guarantee.",
                },
            },
            "required": [
                "text",
                "normalized",
                "confidence",
                "char_confidences",
                "detection_confidence",
                "box",
                "format",
                "region",
                "alternatives",
                "at_edge",
                "incomplete",
            ],
            "additionalProperties": False,
        },
        "CharAlternative": {
            "type": "object",
            "description": "One character a plate position could be, with its probability.",
            "properties": {
                "char": {"type": "string", "pattern": "^[A-Z0-9]$"},
                "p": confidence,
            },
            "required": ["char", "p"],
            "additionalProperties": False,
        },
        "Recognition": {
            "type": "object",
            "properties": {
                "plates": {"type": "array", "items": {"$ref": _REF + "Plate"}},
                "image": {
                    "type": "object",
                    "properties": {
                        "width": {"type": "integer", "minimum": 1},
                        "height": {"type": "integer", "minimum": 1},
                    },
                    "required": ["width", "height"],
                    "additionalProperties": False,
                },
                "timings_ms": {
                    "type": "object",
                    "properties": dict.fromkeys(("decode", "detect", "ocr", "total"), milliseconds),
                    "required": ["decode", "detect", "ocr", "total"],
                    "additionalProperties": False,
                },
                "models": {
                    "type": "object",
                    "properties": {"detector": {"type": "string"}, "ocr": {"type": "string"}},
                    "required": ["detector", "ocr"],
                    "additionalProperties": False,
                },
            },
            "required": ["plates", "image", "timings_ms", "models"],
            "additionalProperties": False,
        },
    }
