"""Property-based fuzzing of /callbacks and every /v1 route: arbitrary headers, query strings
and bodies never get a 5xx, never store more than the limits allow, and never change a task
without its callback credential."""

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app.callbacks.redaction import MAX_HEADER_VALUE
from app.callbacks.service import MAX_TASK_ID
from tests.support.api import state, submit

TASK = "{task}"  # replaced by a real task id (fishhook's or AceData's) when drawn

ROUTES = [
    ("POST", "/callbacks"),
    ("POST", "/v1/voices"),
    ("POST", "/v1/speech"),
    ("GET", "/v1/tasks"),
    ("GET", f"/v1/tasks/{TASK}"),
    ("GET", f"/v1/tasks/{TASK}/relays"),
    ("POST", f"/v1/tasks/{TASK}/relay"),
    ("GET", "/v1/deliveries"),
    ("GET", "/v1/deliveries/{delivery}"),
    ("POST", "/v1/deliveries/{delivery}/replay"),
]
# Every query parameter the routes read, but `wait`: a valid one holds the answer up to 60 s.
PARAMS = [
    "task", "token", "status", "kind", "limit", "cursor", "task_id", "outcome", "since",
    "until", "q",
]  # fmt: skip

text_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "0", "-1", "18", "1e400", "NaN", "2026-11-30", "\x00", "a" * 300]),
    st.integers(min_value=0, max_value=400).map(lambda n: "é" * n),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | text_values,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text_values, inner, max_size=4),
    max_leaves=12,
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"task_id": st.one_of(text_values, st.just(TASK), st.text(min_size=300, max_size=9000))},
        optional={
            "text": text_values,
            "voice_url": text_values,
            "callback_url": text_values,
            "audio_url": text_values,
            "success": st.booleans(),
            "data": json_values,
        },
    ).map(lambda v: json.dumps(v).encode()),
)
header_names = st.from_regex(r"\A[a-z][a-z0-9-]{0,20}\Z")
header_values = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60),
    st.integers(min_value=1_000, max_value=40_000).map(lambda n: "h" * n),
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    method, path = draw(st.sampled_from(ROUTES))
    headers = draw(st.lists(st.tuples(header_names, header_values), max_size=6))
    if draw(st.booleans()):
        headers.append(("content-type", draw(st.sampled_from(["application/json", "text/x"]))))
    return {
        "method": method,
        "path": path,
        "params": draw(st.lists(st.tuples(st.sampled_from(PARAMS), text_values), max_size=4)),
        "headers": headers,
        "body": draw(bodies),
    }


async def _stored_bounds(app: Any) -> dict[str, int]:
    async with app.state.runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT coalesce(max(length(headers::text)), 0) AS headers,"
                    " coalesce(max(length(query)), 0) AS query,"
                    " coalesce(max(octet_length(body)), 0) AS body,"
                    " coalesce(max(length(task_id)), 0) AS task_id,"
                    " coalesce(max((SELECT max(length(value)) FROM jsonb_each_text(headers))), 0)"
                    " AS header_value FROM deliveries"
                )
            )
        ).one()
    return dict(row._mapping)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
async def test_no_request_gets_a_5xx_stores_too_much_or_changes_a_task(app, client, request):
    limits = app.state.runtime.settings
    if not hasattr(app.state, "fuzz_task"):
        app.state.fuzz_task = await submit(client, "speech")
    task = app.state.fuzz_task
    before = await state(client, task["id"])
    ref = task["id"] if "/v1/" in request["path"] else task["task_id"]
    path = request["path"].replace(TASK, ref).replace("{delivery}", "dlv_fuzz")
    answer = await client.request(
        request["method"],
        path,
        params=request["params"],
        headers=[(n.encode(), v.encode("latin-1")) for n, v in request["headers"]],
        content=request["body"].replace(TASK.encode(), task["task_id"].encode()),
    )
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
        assert isinstance(answer.json()["code"], str)
    assert await state(client, task["id"]) == before
    bounds = await _stored_bounds(app)
    assert bounds["body"] <= limits.max_body_bytes
    assert bounds["query"] <= limits.max_header_bytes
    assert bounds["headers"] <= limits.max_header_bytes * 2  # JSON escapes, at most
    assert bounds["header_value"] <= MAX_HEADER_VALUE + 40
    assert bounds["task_id"] <= MAX_TASK_ID
