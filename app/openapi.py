"""The OpenAPI document, made to tell the truth: problem+json errors, the bearer scheme, /callbacks.

Routers say which errors they answer with `responses=problems(404, 409)` (on the APIRouter
or one route); `document(app)` then gives every 4xx/5xx of every operation, FastAPI's own
422 included, the shared `Problem` schema under application/problem+json (unless the route
declared another body for it, as /fish/* routes do with AceData's shape), adds the
errors every operation of a kind can give (401 where the API key is checked, 413 where a
body is read, `everywhere=` for limits applied in front of all routes), and documents the
bare ASGI endpoints FastAPI's routing never sees (see `extra_paths`).
"""

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

from app.errors import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# What the validators refuse in every string a client sends: PostgreSQL cannot store U+0000.
NO_NUL = "^[^\\u0000]*$"
# An http(s) URL with a host: what pydantic's AnyHttpUrl (and then the SSRF check) takes.
HTTP_URL = "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#:@\\u0000][^\\s/?#\\u0000]*([/?#][^\\u0000]*)?$"

_DESCRIPTIONS = {
    400: "Malformed input (a header, a cursor, a value PostgreSQL cannot hold)",
    401: "Missing or wrong credential",
    404: "No such resource",
    409: "Conflicts with the resource's current state",
    413: "Request body over FISHHOOK_MAX_BODY_BYTES",
    415: "Body is not JSON",
    422: "Invalid request (validation_error), or one fishhook will not act on",
    429: "Too many requests; see Retry-After",
    431: "Request headers too large",
    502: "AceData refused the request for account reasons, or failed",
    503: "Database or upstream unavailable; retry after Retry-After",
    504: "AceData did not answer in time",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
_WWW_AUTHENTICATE = {"WWW-Authenticate": {"schema": {"type": "string"}}}
# FastAPI's validation-error models, replaced by Problem (see app/errors.py _validation_error).
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
_BODY_METHODS = ("post", "put", "patch")


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is answered (app/errors.py)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    code: str = Field(description="What went wrong, for programs (`task_not_found`, ...)")
    errors: list[ValidationIssue] | None = Field(
        default=None, description="On 422 validation_error: every invalid field"
    )
    delivery_id: str | None = Field(
        default=None, description="On /callbacks refusals: the delivery logged for the request"
    )


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for an APIRouter or a route: these statuses answer problem+json."""
    return {status: {"description": _describe(status)} for status in statuses}


def _describe(status: int) -> str:
    return _DESCRIPTIONS.get(status, HTTPStatus(status).phrase)


def document(
    app: FastAPI,
    *,
    api_keys_set: bool,
    everywhere: Iterable[int] = (),
    extra_paths: Mapping[str, dict[str, Any]] | None = None,
    extra_schemas: Iterable[type[BaseModel]] = (),
) -> None:
    """Serve the rewritten document as app.openapi() (built once, on first request)."""
    always = tuple(everywhere)

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            for path, item in (extra_paths or {}).items():
                schema["paths"][path] = item
            app.openapi_schema = rewrite(schema, always, api_keys_set, extra_schemas)
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def rewrite(
    schema: dict[str, Any],
    everywhere: tuple[int, ...],
    api_keys_set: bool,
    extra_schemas: Iterable[type[BaseModel]] = (),
) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    models: list[type[BaseModel]] = [Problem, *extra_schemas]
    for model in models:
        _add_model(components, model)
    for item in schema["paths"].values():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                _rewrite_operation(method, operation, everywhere, api_keys_set)
    for name in _FASTAPI_VALIDATION:
        components.pop(name, None)
    return schema


def _add_model(components: dict[str, Any], model: type[BaseModel]) -> None:
    found = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(found.pop("$defs", {}))
    components[model.__name__] = found


def _rewrite_operation(
    method: str, operation: dict[str, Any], everywhere: tuple[int, ...], api_keys_set: bool
) -> None:
    for parameter in operation.get("parameters", []):
        parameter["schema"] = _without_null(parameter["schema"])
    responses: dict[str, Any] = operation.setdefault("responses", {})
    added = [str(status) for status in everywhere]
    if "security" in operation:
        added.append("401")
        if not api_keys_set:
            # No FISHHOOK_API_KEYS: the bearer header is optional (/v1 is open).
            operation["security"] = [*operation["security"], {}]
    if method in _BODY_METHODS and "requestBody" in operation:
        added.append("413")
    for status in added:
        responses.setdefault(status, {"description": _describe(int(status))})
    for status, response in responses.items():
        if status[0] in "45":
            _as_problem(int(status), response)


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A header or query parameter is absent or a string, never JSON null: FastAPI's
    `anyOf: [{string}, {null}]` for an optional one becomes the string's schema."""
    branches = schema.get("anyOf", [])
    kept = [branch for branch in branches if branch != {"type": "null"}]
    if len(kept) != 1 or len(kept) == len(branches):
        return schema
    merged = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**kept[0], **merged}


def _as_problem(status: int, response: dict[str, Any]) -> None:
    content = response.get("content", {})
    declared = any("schema" in media for media in content.values())
    if declared and not _is_fastapi_validation(content):
        return  # the route declared its own error body (AceData-shaped ones on /fish/*)
    if response.get("description") == "Validation Error":
        response["description"] = _describe(422)
    response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
    headers = response.setdefault("headers", {})
    if status in (409, 429, 503):
        headers.update(_RETRY_AFTER)
    if status == 401:
        headers.update(_WWW_AUTHENTICATE)
    if not headers:
        del response["headers"]


def _is_fastapi_validation(content: dict[str, Any]) -> bool:
    schema = content.get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def strings_refuse_nul(schema: dict[str, Any]) -> None:
    """`json_schema_extra` for request models: every string property says NUL is refused
    (and an http(s) URL says so), matching the models' validators."""
    for prop in schema.get("properties", {}).values():
        _mark_strings(prop)


def _mark_strings(node: dict[str, Any]) -> None:
    for branch in node.get("anyOf", []):
        _mark_strings(branch)
    if "items" in node:
        _mark_strings(node["items"])
    if node.get("type") == "string" and "pattern" not in node and "enum" not in node:
        node["pattern"] = HTTP_URL if node.get("format") == "uri" else NO_NUL
