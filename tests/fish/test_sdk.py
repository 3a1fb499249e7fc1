"""AceData's own SDK (`acedatacloud`) with only its base URL and token changed: against
fishhook (a real `fishhook serve`, the simulator as AceData) and against the simulator
itself, every call behaves the same."""

import asyncio

import httpx
import pytest
from acedatacloud._runtime.errors import AuthenticationError
from acedatacloud._runtime.tasks import task_status
from standardwebhooks.webhooks import Webhook

from tests.support.dropin import API_KEY, AUDIO, POLL, VOICE_SAMPLE, Target
from tests.support.receiver import Receiver
from tests.support.relay import RELAY_SECRET

pytestmark = pytest.mark.e2e


async def fishhook_task(target: Target, task_id: str) -> dict:
    """The task as fishhook's own API shows it (GET /v1/tasks/{AceData's id})."""
    assert target.fishhook is not None
    headers = {"authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(base_url=target.url, headers=headers) as api:
        answer = await api.get(f"/v1/tasks/{task_id}")
    assert answer.status_code == 200, answer.text
    task: dict = answer.json()
    return task


async def test_generate_with_wait_ends_succeeded_with_the_audio_url(target: Target) -> None:
    async with target.client() as client:
        handle = await client.fish.generate(
            text="Hello from the SDK.", model="s2-pro", wait=True, poll_interval=POLL, max_wait=20
        )
    result = await handle.result()
    assert handle.done and result is not None and task_status(result) == "succeeded"
    [url] = handle.urls()
    assert url.startswith(AUDIO)
    assert result["response"] == {"task_id": handle.id, "audio_url": url}
    if target.fishhook is not None:
        task = await fishhook_task(target, handle.id)
        assert (task["status"], task["output"]["audio_url"]) == ("succeeded", url)
        assert task["input"]["model"] == "s2-pro" and task["deliveries"] >= 1


async def test_generate_with_callback_url_delivers_acedatas_body(
    target: Target, receiver: Receiver
) -> None:
    async with target.client() as client:
        handle = await client.fish.generate(text="Call me back.", callback_url=receiver.url)

    [received] = await receiver.wait_for(1, timeout=15)
    body = received.json()
    assert body.keys() == {"task_id", "audio_url"} and body["task_id"] == handle.id
    assert body["audio_url"].startswith(AUDIO)
    if target.fishhook is not None:
        # fishhook adds Standard Webhooks signature headers over AceData's exact body.
        Webhook(RELAY_SECRET).verify(received.body, received.headers)
        await asyncio.sleep(0.2)
        assert len(receiver.received) == 1


async def test_list_and_get_fish_models(target: Target) -> None:
    async with target.client() as client:
        listing = await client.audio.list_fish_models(page_size=5, page_number=1)
        first = listing["items"][0]
        one = await client.audio.get_fish_model(first["_id"])
    assert listing["total"] >= 1
    assert one == first


async def test_wrong_token_raises_the_sdks_authentication_error(target: Target) -> None:
    async with target.client(token="not-the-key") as client:
        with pytest.raises(AuthenticationError) as raised:
            await client.fish.generate(text="Nope.")
    assert (raised.value.code, raised.value.status_code) == ("invalid_token", 401)
    assert raised.value.trace_id


async def test_model_created_with_fish_model_finishes(target: Target) -> None:
    async with target.client() as client:
        created = await client.fish.model(title="Mine", voices=VOICE_SAMPLE, tags=["e2e"])
        model = await client.audio.get_fish_model(created["data"]["_id"])
        record = await client.tasks.get(created["task_id"], service="fish")
    assert created["success"] is True and created["data"]["title"] == "Mine"
    assert model["_id"] == created["data"]["_id"]
    assert record["finished_at"] and record["response"] == {
        k: v for k, v in created.items() if k in record["response"]
    }
    if target.fishhook is not None:
        task = await fishhook_task(target, created["task_id"])
        assert (task["kind"], task["status"]) == ("voice", "succeeded")
        assert task["output"]["voice_id"] == created["data"]["_id"]
