"""What a /fish client's webhook gets for each way a task can end (relay_messages.task in,
AceData's body out)."""

from app.fish.records import relay_body
from tests.support.fixtures import fixture

TASK_ID = "9f626a13-96ec-4dec-8846-dc5aab7362a8"


def snapshot(status: str, **fields: object) -> dict:
    return {"id": "tsk_1", "task_id": TASK_ID, "status": status, "fish_api": "voices", **fields}


def test_a_result_from_acedata_is_relayed_byte_for_byte_as_its_body():
    body = fixture("voices_callback_success")
    assert relay_body(snapshot("succeeded", result=body)) == body
    failure = fixture("callback_failure")
    assert relay_body(snapshot("failed", result=failure, error={"code": "x"})) == failure


def test_an_expired_task_is_relayed_as_acedatas_timeout_failure():
    body = relay_body(snapshot("expired", error={"code": "expired"}, trace_id="t-1"))
    assert body is not None
    assert (body["success"], body["task_id"], body["trace_id"]) == (False, TASK_ID, "t-1")
    assert body["error"]["code"] == "timeout"


def test_a_failure_without_a_body_keeps_a_known_code_only():
    known = relay_body(snapshot("failed", error={"code": "used_up", "message": "balance"}))
    unknown = relay_body(snapshot("failed", error={"code": "upstream_error", "message": "?"}))
    assert known is not None and known["error"] == {"code": "used_up", "message": "balance"}
    assert unknown is not None and unknown["error"]["code"] == "api_error"


def test_a_job_acedata_never_accepted_relays_nothing():
    assert (
        relay_body({**snapshot("failed", error={"code": "bad_request"}), "task_id": None}) is None
    )
