"""What others see of the archive: the relayed Task names fishhook's copy beside AceData's
URL, and the figures /metrics is to show."""

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from app.metrics import snapshot
from app.simulator import media as generated
from tests.support.api import SPEECH, post_callback
from tests.support.archive import archived, quick
from tests.support.receiver import Receiver
from tests.support.receiver import serve as serve_receiver


async def test_the_relayed_task_keeps_acedatas_url_and_adds_fishhooks(serve, media):
    async with (
        serve_receiver(Receiver()) as receiver,
        serve(**quick(media, relay_backoff_base=0.05, relay_interval=0.05)) as (_app, client),
    ):
        answer = await client.post("/v1/speech", json={**SPEECH, "callback_url": receiver.url})
        task = answer.json()
        audio = media.file("task/relayed.mp3")
        await post_callback(client, task["id"], {"task_id": task["task_id"], "audio_url": audio})
        [relayed] = await receiver.wait_for(1, timeout=30)
    body = relayed.json()
    assert body["output"]["audio_url"] == audio
    assert body["archive"]["url"] == f"http://fishhook.test/v1/tasks/{task['id']}/audio"
    assert body["archive"]["status"] in ("pending", "stored")


async def test_figures_count_copies_bytes_failures_and_backlog(serve, media):
    media.state.size = 20_000
    media.state.faults.append(generated.Fault(mode="fail", times=1))
    async with serve(**quick(media, archive_max_attempts=1)) as (app, client):
        before = await _scrape(client)
        for name in ("a", "b"):
            task = (await client.post("/v1/speech", json=SPEECH)).json()
            body = {"task_id": task["task_id"], "audio_url": media.file(f"task/{name}.mp3")}
            await post_callback(client, task["id"], body)
            await archived(client, task["id"])
        figures = await app.state.runtime.archiver.figures()
        await snapshot.refresh(app.state.runtime.sessionmaker)
        after = await _scrape(client)
    assert figures == {"archived": 1, "failed": 1, "retried": 0, "bytes": 20_000, "backlog": 0}
    # The same figures on /metrics (counters are per process: compare with before).
    stored = ("fishhook_archive_files_total", (("result", "stored"),))
    failed = ("fishhook_archive_files_total", (("result", "failed"),))
    assert after.get(stored, 0) - before.get(stored, 0) == 1
    assert after.get(failed, 0) - before.get(failed, 0) == 1
    bytes_ = ("fishhook_archive_bytes_total", ())
    assert after[bytes_] - before.get(bytes_, 0) == 20_000
    assert after[("fishhook_archive_backlog", ())] == 0


async def _scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }
