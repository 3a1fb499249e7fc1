"""The OpenAPI document describes the errors, the credentials and the endpoints as they are."""

import re

from app.idempotency.service import KEY_PATTERN
from app.openapi import NO_NUL
from app.pagination import CURSOR_PATTERN
from tests.support.api import callback_path

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


async def test_every_error_is_problem_json_with_the_shared_schema(client):
    document = (await client.get("/openapi.json")).json()
    errors = 0
    for name, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                assert response["content"] == PROBLEM, (name, status)
                errors += 1
    assert errors > 30
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"title", "status", "detail", "code"}
    assert problem["properties"]["detail"]["type"] == "string"
    assert problem["additionalProperties"] is True  # delivery_id, trace_id, errors...
    assert "HTTPValidationError" not in document["components"]["schemas"]


async def test_the_documented_validation_error_is_the_one_answered(client):
    document = (await client.get("/openapi.json")).json()
    assert "422" in document["paths"]["/v1/speech"]["post"]["responses"]
    answer = await client.post("/v1/speech", json={"text": ""})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["code"] == "validation_error" and isinstance(body["detail"], str)


async def test_each_route_lists_the_statuses_it_answers(client):
    paths = (await client.get("/openapi.json")).json()["paths"]

    def statuses(path, method):
        return set(paths[path][method]["responses"])

    assert statuses("/v1/voices", "post") >= {"202", "400", "401", "409", "413", "422", "502"}
    assert statuses("/v1/voices", "post") >= {"503", "504"}
    assert statuses("/v1/tasks/{task_ref}", "get") >= {"200", "401", "404", "503"}
    assert statuses("/v1/tasks", "get") >= {"400", "422"}  # a foreign cursor, a bad limit
    assert statuses("/v1/tasks/{task_ref}/relay", "post") >= {"404", "409"}
    assert statuses("/v1/deliveries/{delivery_id}/replay", "post") >= {"404", "409"}
    assert statuses("/readyz", "get") == {"200", "408", "431", "503"}  # any request: 408, 431
    assert statuses("/healthz", "get") == {"200", "408", "431"}


async def test_v1_requires_the_bearer_scheme(client, serve):
    document = (await client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "One of FISHHOOK_API_KEYS",
        }
    }
    for name, operation in _operations(document):
        if name.split()[1].startswith("/v1/"):
            # No FISHHOOK_API_KEYS in these settings: the header is optional.
            assert operation["security"] == [{"HTTPBearer": []}, {}], name
            assert operation["responses"]["401"]["headers"]["WWW-Authenticate"]
        elif name in ("GET /healthz", "GET /readyz", "GET /metrics", "POST /callbacks"):
            assert "security" not in operation, name
    async with serve(api_keys=["k-1"]) as (_, keyed):
        keyed_doc = (await keyed.get("/openapi.json")).json()
    assert keyed_doc["paths"]["/v1/tasks"]["get"]["security"] == [{"HTTPBearer": []}]


async def test_callbacks_is_documented_as_served(client):
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/callbacks"]["post"]
    assert [p["name"] for p in operation["parameters"]] == ["task", "token"]
    assert set(operation["responses"]) == {
        "200",
        "400",
        "401",
        "404",
        "408",
        "413",
        "415",
        "431",
        "503",
    }
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CallbackReceipt"
    }
    # What the document says a refusal looks like is what the endpoint answers.
    refused = await client.post(callback_path("tsk_unknown"), content=b"not json")
    assert refused.status_code in (400, 404)
    assert refused.headers["content-type"] == "application/problem+json"
    assert {"code", "detail", "delivery_id"} <= set(refused.json())


async def test_strings_say_what_is_refused(client):
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    assert schemas["SpeechRequest"]["properties"]["text"]["pattern"] == NO_NUL
    voice_url = schemas["VoiceRequest"]["properties"]["voice_url"]
    assert voice_url["format"] == "uri" and voice_url["pattern"].startswith("^[Hh][Tt]")
    answer = await client.post("/v1/speech", json={"text": "a\x00b"})
    assert answer.status_code == 422


async def test_idempotency_key_and_cursor_patterns_match_what_is_accepted(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    [key] = [p for p in paths["/v1/voices"]["post"]["parameters"] if p["in"] == "header"]
    assert key["schema"]["pattern"] == KEY_PATTERN and key["schema"]["type"] == "string"
    cursor = next(p for p in paths["/v1/tasks"]["get"]["parameters"] if p["name"] == "cursor")
    assert cursor["schema"]["pattern"] == CURSOR_PATTERN
    for good in ["a", "k" * 255, "order 42: retry #1"]:
        assert re.fullmatch(KEY_PATTERN, good)
    for bad in ["", " a", "a ", "k" * 256, "é"]:
        assert not re.fullmatch(KEY_PATTERN, bad)
        answer = await client.post(
            "/v1/voices",
            json={"voice_url": "https://x.test/a.mp3"},
            headers={"Idempotency-Key": bad.encode()},
        )
        assert answer.status_code == 400, bad
    empty_cursor = await client.get("/v1/tasks", params={"cursor": ""})
    assert empty_cursor.status_code == 400
    an_id = await client.get("/v1/tasks", params={"cursor": "tsk_01KB0000000000000000000000"})
    assert an_id.status_code == 200


def test_a_new_router_gets_problem_errors_and_keeps_a_body_it_declares():
    from fastapi import APIRouter, FastAPI
    from pydantic import BaseModel

    from app.openapi import document, problems

    class AceDataError(BaseModel):
        success: bool
        error: dict

    router = APIRouter(prefix="/extra", responses=problems(404))

    @router.get("/{item}")
    async def read(item: int) -> dict:
        return {}

    @router.post("/fish", responses={400: {"model": AceDataError}, 422: {"model": AceDataError}})
    async def fish(body: dict) -> dict:
        return {}

    app = FastAPI()
    app.include_router(router)
    document(app, api_keys_set=True, everywhere=[431])
    paths = app.openapi()["paths"]
    read_responses = paths["/extra/{item}"]["get"]["responses"]
    assert set(read_responses) == {"200", "404", "422", "431"}
    assert all(read_responses[s]["content"] == PROBLEM for s in ("404", "422", "431"))
    fish_responses = paths["/extra/fish"]["post"]["responses"]
    assert set(fish_responses) == {"200", "400", "404", "413", "422", "431"}
    own = {"application/json": {"schema": {"$ref": "#/components/schemas/AceDataError"}}}
    assert fish_responses["400"]["content"] == own
    assert fish_responses["422"]["content"] == own
    assert fish_responses["404"]["content"] == PROBLEM
