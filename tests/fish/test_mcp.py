"""AceData's MCP server for Fish (`mcp-fish`): its tools, run as an MCP client would run them,
with only its base URL and token pointed at fishhook (or at the simulator)."""

import asyncio
import json

import pytest
from core.client import FishClient
from core.client import client as mcp_client
from core.utils import _task_outcome
from tools.audio_tools import fish_generate_audio
from tools.info_tools import fish_get_model, fish_list_models
from tools.task_tools import fish_get_task, fish_get_tasks_batch

from tests.support.dropin import AUDIO, Target

pytestmark = pytest.mark.e2e


@pytest.fixture
def mcp(target: Target, monkeypatch: pytest.MonkeyPatch) -> FishClient:
    """The server's one client, pointed as ACEDATACLOUD_API_BASE_URL and _TOKEN would."""
    monkeypatch.setattr(mcp_client, "base_url", target.url)
    monkeypatch.setattr(mcp_client, "api_token", target.token)
    return mcp_client


async def finished(mcp: FishClient, task_id: str) -> None:
    for _ in range(300):
        record = await mcp.query_task(id=task_id, action="retrieve")
        if any(_task_outcome(record)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} never finished")


async def test_tts_then_task_tools_return_the_audio_url(mcp: FishClient) -> None:
    submitted = json.loads(await fish_generate_audio(text="Hello from MCP.", model="s1"))
    task_id = submitted["task_id"]
    assert submitted["mcp_async_submission"]["should_poll"] is True

    await finished(mcp, task_id)
    task = json.loads(await fish_get_task(task_id))
    batch = json.loads(await fish_get_tasks_batch([task_id, "no-such-task"]))

    assert task["id"] == task_id and task["finished_at"]
    assert task["response"]["audio_url"].startswith(AUDIO)
    assert batch["count"] == 1 and batch["items"][0]["response"] == task["response"]


async def test_model_tools_list_and_read(mcp: FishClient) -> None:
    listing = json.loads(await fish_list_models(page_size=3))
    first = listing["items"][0]
    one = json.loads(await fish_get_model(first["_id"]))
    assert one == first


async def test_wrong_token_is_reported_as_an_authentication_error(
    mcp: FishClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mcp, "api_token", "not-the-key")
    answer = json.loads(await fish_generate_audio(text="Nope."))
    assert answer["error"] == "Authentication Error"
