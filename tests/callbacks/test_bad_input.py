"""Bad input at /callbacks: a clear 4xx problem, the request still logged, no task changed."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api import callback_path, logged, post_callback, state, submit
from tests.support.api import tts_success as success
from tests.support.fixtures import fixture


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_a_body_declared_as_something_other_than_json_is_415(client, content_type):
    task = await submit(client, "speech")
    before = await state(client, task["id"])
    answer = await post_callback(
        client,
        task["id"],
        json.dumps(success(task["task_id"])).encode(),
        headers={"content-type": content_type},
    )
    assert answer.status_code == 415
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "unsupported_media_type"
    assert (await logged(client, answer.json()["delivery_id"]))["outcome"] == "invalid"
    assert await state(client, task["id"]) == before


async def test_a_json_body_without_content_type_is_still_applied(client):
    # AceData declares application/json; a missing header is no reason to lose a result.
    task = await submit(client, "speech")
    raw = json.dumps(success(task["task_id"])).encode()
    answer = await client.post(callback_path(task["id"]), content=raw)
    assert answer.status_code == 200
    assert answer.json()["outcome"] == "applied"


async def test_json_with_a_charset_or_a_json_suffix_type_is_accepted(client):
    task = await submit(client, "speech")
    raw = json.dumps(success(task["task_id"])).encode()
    answer = await post_callback(
        client, task["id"], raw, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert answer.json()["outcome"] == "applied"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"task_id": "%s", "a": ' + b"[" * 40 + b"]" * 40 + b"}", "nested"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON"),
        (b'{"task_id": "%s", "audio_url": "x\\u0000y"}', "NUL"),
        (b'{"task_id": "%s", "audio_url": "\\ud800"}', "surrogate"),
        (b'{"task_id": "%s", "\\u0000": 1}', "NUL"),
        (b'{"task_id": "\xc3\x28"}', "UTF-8"),
        (b'{"task_id": ["%s"]}', "task_id"),
        (b'{"task_id": null}', "task_id"),
        (b'"just a string"', "object"),
        (b"", "JSON"),
    ],
)
async def test_bodies_that_cannot_be_stored_or_read_are_400_and_logged(client, body, why):
    task = await submit(client, "speech")
    before = await state(client, task["id"])
    raw = body.replace(b"%s", task["task_id"].encode())
    answer = await post_callback(client, task["id"], raw)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid_body"
    assert why in answer.json()["detail"]
    delivery = await logged(client, answer.json()["delivery_id"])
    assert delivery["outcome"] == "invalid"
    assert delivery["body_size"] == len(raw)
    assert await state(client, task["id"]) == before


async def test_an_endless_chunked_callback_is_cut_off_at_the_limit(client, settings):
    task = await submit(client, "speech")
    sent = 0

    async def endless():
        nonlocal sent
        while True:
            sent += 65536
            yield b" " * 65536

    answer = await client.post(
        callback_path(task["id"]), content=endless(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert sent <= settings.max_body_bytes + 2 * 65536
    [delivery] = (await client.get("/v1/deliveries")).json()["items"]
    assert delivery["outcome"] == "invalid"
    assert (await logged(client, delivery["id"]))["body"] is None


async def test_nul_and_odd_bytes_in_query_and_headers_are_logged_not_a_crash(client):
    task = await submit(client, "speech")
    path = callback_path(task["id"]) + "&x=%00%ff%ed%a0%80"
    answer = await client.post(
        path,
        content=json.dumps(success(task["task_id"])).encode(),
        headers=[(b"content-type", b"application/json"), (b"x-odd", b"\x00\xff\x7f")],
    )
    assert answer.status_code == 200, answer.text
    delivery = await logged(client, answer.json()["delivery_id"])
    assert delivery["outcome"] == "applied"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
# Stands for the attacked task's AceData id, which only exists once the example runs.
TARGET = "__target_task_id__"
header_names = st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True).filter(
    lambda n: n not in {"content-length", "transfer-encoding", "host"}
)


@st.composite
def requests(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from(["bytes", "json", "object_with_task_id"]))
    if kind == "bytes":
        body = draw(st.binary(max_size=300))
    elif kind == "json":
        body = json.dumps(draw(json_values)).encode()
    else:
        extra = draw(st.dictionaries(st.text(max_size=10), json_values, max_size=4))
        task_id = draw(st.sampled_from([TARGET, None]) | st.text(max_size=40))
        body = json.dumps({**extra, "task_id": task_id}).encode()
        if draw(st.booleans()):
            body = json.dumps({**fixture("tts_callback_success"), "task_id": TARGET}).encode()
    headers = draw(st.lists(st.tuples(header_names, st.binary(max_size=30)), max_size=4))
    content_type = draw(st.sampled_from([b"application/json", b"text/plain", None]))
    if content_type:
        headers.append(("content-type", content_type))
    credential = draw(
        st.sampled_from(["none", "forged", "other_token", "random_query", "other_credential"])
    )
    query = draw(st.text(max_size=40))
    return {"body": body, "headers": headers, "credential": credential, "query": query}


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
async def test_arbitrary_requests_never_5xx_and_never_change_a_task_without_credential(
    client, request
):
    task = await submit(client, "speech")
    other = await submit(client, "speech")
    before = await state(client, task["id"])
    token = callback_path(other["id"]).split("token=")[1]
    path = {
        "none": "/callbacks",
        "forged": f"/callbacks?task={task['id']}&token=AAAA{token[4:]}",
        "other_token": f"/callbacks?task={task['id']}&token={token}",
        "random_query": "/callbacks",
        # A valid credential, but for another task: it may finish that one, never this one.
        "other_credential": callback_path(other["id"]),
    }[request["credential"]]
    params = {"q": request["query"]} if request["credential"] == "random_query" else None
    answer = await client.post(
        path,
        content=request["body"].replace(TARGET.encode(), task["task_id"].encode()),
        headers=[(n.encode(), v) for n, v in request["headers"]],
        params=params,
    )
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
    assert await state(client, task["id"]) == before


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
async def test_arbitrary_bodies_with_a_valid_credential_never_5xx(client, request):
    task = await submit(client, "speech")
    answer = await client.post(
        callback_path(task["id"]),
        content=request["body"].replace(TARGET.encode(), task["task_id"].encode()),
        headers=[(n.encode(), v) for n, v in request["headers"]],
    )
    assert answer.status_code < 500, answer.text
    assert answer.status_code in (200, 400, 404, 415), answer.text
    delivery = (await client.get(f"/v1/deliveries/{answer.json()['delivery_id']}")).json()
    assert delivery["body_size"] == len(answer.request.content)
