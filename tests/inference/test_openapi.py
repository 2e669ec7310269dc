"""The OpenAPI document: complete, self-consistent, and true to what the server answers.

Schema-driven testers (schemathesis) will hold the server to this document, so besides its
shape the tests check real answers of a running server against it, with a small JSON Schema
checker covering the keywords the document uses.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from PIL import Image
import pytest

from anpr_inference import __version__
from anpr_inference.config import ServiceConfig
from anpr_inference.engine import create_engine
from anpr_inference.formats import REGIONS
from anpr_inference.openapi import ERROR_CODES, build_openapi
from anpr_inference.server import _HTTP_ERROR_CODES, create_app

from .test_imaging import encode, png_header_only
from .test_server import API_KEY, INSTANCE_ID, PLATE, FakeEngine

if TYPE_CHECKING:
    from pathlib import Path

    import aiohttp

CONTRACT_ERROR_CODES = {
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
}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def make_document(*, auth_required: bool) -> dict[str, Any]:
    return build_openapi(
        version=__version__,
        regions=REGIONS,
        auth_required=auth_required,
        max_body_bytes=1024,
        max_pixels=10_000,
        default_region="br",
        default_min_confidence=0.4,
    )


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (repeatedly)."""
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _is_type(value: Any, kind: str) -> bool:
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    return bool(checks[kind](value))


def validate(
    value: Any, schema: dict[str, Any], document: dict[str, Any], at: str = "$"
) -> list[str]:
    """Check `value` against the JSON Schema keywords this document uses; list the errors."""
    schema = resolve(document, schema)
    errors: list[str] = []
    if "const" in schema and value != schema["const"]:
        errors.append(f"{at}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{at}: {value!r} is not one of {schema['enum']!r}")
    if "type" in schema:
        kinds = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        if not any(_is_type(value, kind) for kind in kinds):
            return [*errors, f"{at}: {value!r} is not of type {kinds}"]
    if isinstance(value, dict):
        errors += _validate_object(value, schema, document, at)
    if isinstance(value, list):
        errors += _validate_array(value, schema, document, at)
    if _is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{at}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{at}: {value} > {schema['maximum']}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{at}: {value!r} does not match {schema['pattern']}")
    return errors


def _validate_object(
    value: dict[str, Any], schema: dict[str, Any], document: dict[str, Any], at: str
) -> list[str]:
    """Check an object's required, known and unexpected properties."""
    properties = schema.get("properties", {})
    errors = [f"{at}: missing {key!r}" for key in schema.get("required", []) if key not in value]
    for key, item in value.items():
        if key in properties:
            errors += validate(item, properties[key], document, f"{at}.{key}")
        elif schema.get("additionalProperties") is False:
            errors.append(f"{at}: unexpected {key!r}")
    return errors


def _validate_array(
    value: list[Any], schema: dict[str, Any], document: dict[str, Any], at: str
) -> list[str]:
    """Check an array's items and its length."""
    errors: list[str] = []
    for index, item in enumerate(value if "items" in schema else []):
        errors += validate(item, schema["items"], document, f"{at}[{index}]")
    if len(value) < schema.get("minItems", 0):
        errors.append(f"{at}: fewer than {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(f"{at}: more than {schema['maxItems']} items")
    return errors


# --- the document on its own ---------------------------------------------------------------


@pytest.mark.parametrize("auth_required", [False, True])
def test_document_basics(auth_required: bool) -> None:
    document = make_document(auth_required=auth_required)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == __version__
    json.dumps(document, allow_nan=False)  # plain JSON, no NaN or objects
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids)) == 4


def test_every_route_is_documented_and_nothing_else(tmp_path: Path) -> None:
    app = create_app(ServiceConfig(data_dir=tmp_path), FakeEngine(), instance_id=INSTANCE_ID)
    routes = {
        (route.resource.canonical, route.method.lower())
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    document = make_document(auth_required=False)
    assert routes == {(path, method) for path, method, _ in operations(document)}


def test_every_reference_resolves() -> None:
    document = make_document(auth_required=True)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                resolve(document, node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


def test_error_codes_match_the_contract() -> None:
    assert set(ERROR_CODES) == CONTRACT_ERROR_CODES
    assert set(_HTTP_ERROR_CODES.values()) <= CONTRACT_ERROR_CODES
    document = make_document(auth_required=False)
    error = document["components"]["schemas"]["Error"]["properties"]["error"]
    assert set(error["properties"]["code"]["enum"]) == CONTRACT_ERROR_CODES


def test_every_operation_documents_its_answers() -> None:
    document = make_document(auth_required=True)
    for path, method, operation in operations(document):
        responses = operation["responses"]
        assert "200" in responses, (path, method)
        assert "500" in responses, (path, method)
        for status, reference in responses.items():
            response = resolve(document, reference)
            assert response["description"], (path, status)
            if status != "200":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (path, status)
    recognize = document["paths"]["/v1/recognize"]["post"]
    assert set(recognize["responses"]) == {"200", "400", "401", "408", "413", "415", "500", "503"}
    assert recognize["responses"]["503"]["headers"]["Retry-After"]["required"] is True
    assert set(recognize["requestBody"]["content"]) == {
        "image/jpeg",
        "image/png",
        "image/webp",
        "application/octet-stream",
        "multipart/form-data",
    }
    parameters = {p["name"]: p for p in recognize["parameters"]}
    assert parameters["region"]["schema"]["enum"] == list(REGIONS)
    assert parameters["min_confidence"]["schema"] == {"type": "number", "minimum": 0, "maximum": 1}
    assert parameters["crops"]["schema"]["type"] == "boolean"
    assert all(p["in"] == "query" and p["required"] is False for p in parameters.values())


def test_security_follows_the_configuration() -> None:
    protected = [("/v1/recognize", "post"), ("/metrics", "get"), ("/v1/openapi.json", "get")]
    with_key = make_document(auth_required=True)
    without_key = make_document(auth_required=False)
    for document in (with_key, without_key):
        scheme = document["components"]["securitySchemes"]["bearerAuth"]
        assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
        health = document["paths"]["/v1/health"]["get"]
        assert health["security"] == []
        assert "401" not in health["responses"]
    for path, method in protected:
        assert with_key["paths"][path][method]["security"] == [{"bearerAuth": []}]
        unauthorized = resolve(with_key, with_key["paths"][path][method]["responses"]["401"])
        assert unauthorized["headers"]["WWW-Authenticate"]["required"] is True
        assert "security" not in without_key["paths"][path][method]
        assert "401" not in without_key["paths"][path][method]["responses"]


def test_the_checker_catches_mismatches() -> None:
    document = make_document(auth_required=False)
    error = {"$ref": "#/components/schemas/Error"}
    assert validate({"error": {"code": "not_found", "message": "x"}}, error, document) == []
    assert validate({"error": {"code": "nope", "message": "x"}}, error, document)
    assert validate({"error": {"code": "not_found"}}, error, document)
    assert validate({"error": {"code": "not_found", "message": "x", "extra": 1}}, error, document)
    assert validate({"error": {"code": "not_found", "message": 3}}, error, document)
    plate, good = {"$ref": "#/components/schemas/Plate"}, PLATE.as_dict()
    assert validate(good, plate, document) == []
    four = [{"char": c, "p": 0.1} for c in "ABCD"]
    for alternatives in ([[]], [four], [[{"char": "AB", "p": 0.1}]], [[{"char": "A"}]]):
        assert validate({**good, "alternatives": alternatives}, plate, document), alternatives
    assert validate({**good, "incomplete": None}, plate, document)


# --- the document against a running server -------------------------------------------------


async def check_answer(
    response: aiohttp.ClientResponse, document: dict[str, Any], path: str, method: str
) -> None:
    """Assert the answer is one the document declares for this operation, body included."""
    if path in document["paths"] and method in document["paths"][path]:
        responses = document["paths"][path][method]["responses"]
        assert str(response.status) in responses, (path, method, response.status)
        spec = resolve(document, responses[str(response.status)])
    else:  # unknown paths and methods: the shared error shape
        assert response.status in (404, 405)
        spec = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    assert response.content_type in spec["content"], (path, response.content_type)
    for header, header_spec in spec.get("headers", {}).items():
        if header_spec.get("required"):
            assert header in response.headers, (path, header)
    if response.content_type == "application/json":
        schema = spec["content"]["application/json"]["schema"]
        body = await response.json()
        assert validate(body, schema, document) == [], (path, response.status, body)


@pytest.mark.parametrize("auth_required", [False, True])
async def test_answers_match_the_document(
    aiohttp_client: Any, tmp_path: Path, sample_photos: dict[str, bytes], auth_required: bool
) -> None:
    config = ServiceConfig(
        data_dir=tmp_path,
        api_key=API_KEY if auth_required else None,
        max_body_bytes=50_000,
        max_pixels=1_000_000,
    )
    client = await aiohttp_client(create_app(config, FakeEngine(), instance_id=INSTANCE_ID))
    document = await (
        await client.get("/v1/openapi.json", headers={"Authorization": f"Bearer {API_KEY}"})
    ).json()
    auth = {"Authorization": f"Bearer {API_KEY}"} if auth_required else {}
    small_jpeg = encode(Image.new("RGB", (320, 240), (90, 90, 90)), "JPEG")
    big = sample_photos["br/AYO9034.jpg"]
    cases: list[tuple[str, str, dict[str, Any], int]] = [
        ("get", "/v1/health", {}, 200),
        ("get", "/metrics", {"headers": auth}, 200),
        ("get", "/v1/openapi.json", {"headers": auth}, 200),
        ("post", "/v1/recognize?crops=true&region=br", {"data": small_jpeg}, 200),
        ("post", "/v1/recognize?crops=false", {"data": small_jpeg}, 200),
        ("post", "/v1/recognize?region=zz", {"data": small_jpeg}, 400),
        ("post", "/v1/recognize", {"data": b"\xff\xd8\xff broken"}, 400),
        ("post", "/v1/recognize", {"data": big}, 413),
        ("post", "/v1/recognize", {"data": png_header_only(5000, 5000)}, 413),
        ("post", "/v1/recognize", {"data": b"hi", "ctype": "text/plain"}, 415),
        ("get", "/v1/nothing", {"headers": auth}, 404),
        ("delete", "/v1/health", {}, 405),
    ]
    if auth_required:
        cases += [
            ("get", "/metrics", {}, 401),
            ("post", "/v1/recognize", {"data": small_jpeg, "auth": False}, 401),
        ]
    for method, path, options, status in cases:
        headers = dict(options.get("headers", {}))
        if "data" in options:
            headers["Content-Type"] = options.get("ctype", "image/jpeg")
            if options.get("auth", True):
                headers.update(auth)
        response = await client.request(method, path, data=options.get("data"), headers=headers)
        assert response.status == status, (method, path, await response.text())
        await check_answer(response, document, path.split("?")[0], method)


async def test_a_real_recognition_matches_the_document(
    aiohttp_client: Any, tmp_path: Path, models_dir: Path, sample_photos: dict[str, bytes]
) -> None:
    """The real pipeline's answers, alternatives and flags included, fit the document."""
    (tmp_path / "models").mkdir()
    config = ServiceConfig(
        data_dir=tmp_path,
        detector="embedded",
        model_dir=tmp_path / "models",
        bundled_model_dir=models_dir,
        allow_download=False,
    )
    app = create_app(config, create_engine(config), instance_id=INSTANCE_ID)
    client = await aiohttp_client(app)
    document = await (await client.get("/v1/openapi.json")).json()
    for name, photo in sample_photos.items():
        response = await client.post(
            "/v1/recognize",
            params={"region": name.split("/")[0]},
            data=photo,
            headers={"Content-Type": "image/jpeg"},
        )
        assert response.status == 200
        await check_answer(response, document, "/v1/recognize", "post")
        best = (await response.json())["plates"][0]
        assert "".join(o[0]["char"] for o in best["alternatives"]) == best["normalized"], name
