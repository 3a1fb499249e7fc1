"""The archive in one process: a succeeded task's files are copied from a real media server
on loopback into the filesystem, and served back with Range."""

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import text

from app.simulator import media as generated
from tests.support.api import post_callback, read, submit
from tests.support.archive import archived, quick, speech_succeeded
from tests.support.fixtures import fixture


def archive_dir(settings: Any) -> Path:
    return Path(settings.archive_url.removeprefix("file://"))


async def test_speech_audio_is_copied_and_plays_after_the_source_died(
    archive_client, media, settings
):
    media.state.size = 100_000
    task = await speech_succeeded(archive_client, media.file("task/first.mp3"))

    done = await archived(archive_client, task["id"])

    archive = done["archive"]
    assert archive["status"] == "stored"
    assert archive["size"] == 100_000
    assert archive["sha256"] == generated.sha256("task/first.mp3", 100_000)
    assert archive["content_type"] == "audio/wav"
    assert archive["url"] == f"http://fishhook.test/v1/tasks/{task['id']}/audio"
    assert done["output"]["audio_url"] == media.file("task/first.mp3")  # AceData's URL stays
    # AceData's URL dies: the copy still plays, and the source is not asked again.
    media.state.faults.append(generated.Fault(mode="fail", times=100))
    answer = await archive_client.get(f"/v1/tasks/{task['id']}/audio")
    assert answer.status_code == 200
    assert hashlib.sha256(answer.content).hexdigest() == archive["sha256"]
    assert answer.headers["content-type"] == "audio/wav"
    assert answer.headers["content-length"] == "100000"
    assert answer.headers["etag"] == f'"{archive["sha256"]}"'
    assert answer.headers["accept-ranges"] == "bytes"
    assert media.state.requested == ["task/first.mp3"]
    assert (archive_dir(settings) / task["id"] / "audio.mp3").stat().st_size == 100_000


async def test_range_requests_answer_206_with_the_right_bytes(archive_client, media):
    media.state.size = 10_000
    task = await speech_succeeded(archive_client, media.file("task/seek.mp3"))
    await archived(archive_client, task["id"])
    whole = b"".join(generated.content("task/seek.mp3", 10_000)[2])
    url = f"/v1/tasks/{task['id']}/audio"

    middle = await archive_client.get(url, headers={"Range": "bytes=100-199"})
    assert middle.status_code == 206
    assert middle.content == whole[100:200]
    assert middle.headers["content-range"] == "bytes 100-199/10000"
    assert middle.headers["content-length"] == "100"
    tail = await archive_client.get(url, headers={"Range": "bytes=-50"})
    assert (tail.status_code, tail.content) == (206, whole[-50:])
    rest = await archive_client.get(url, headers={"Range": "bytes=9000-"})
    assert (rest.status_code, rest.content) == (206, whole[9000:])
    past_end = await archive_client.get(url, headers={"Range": "bytes=9990-20000"})
    assert (past_end.status_code, past_end.content) == (206, whole[9990:])
    outside = await archive_client.get(url, headers={"Range": "bytes=10000-"})
    assert outside.status_code == 416
    assert outside.headers["content-range"] == "bytes */10000"
    assert outside.json()["code"] == "range_not_satisfiable"
    several = await archive_client.get(url, headers={"Range": "bytes=0-1,5-6"})
    assert (several.status_code, several.content) == (200, whole)
    etag = middle.headers["etag"]
    cached = await archive_client.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    changed = await archive_client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert (changed.status_code, changed.content) == (200, whole)


async def test_voice_clone_sample_and_cover_are_kept(archive_client, media):
    task = await submit(archive_client, "voice")
    body = fixture("voices_callback_success") | {"task_id": task["task_id"]}
    assert (await post_callback(archive_client, task["id"], body)).status_code == 200

    archive = (await archived(archive_client, task["id"]))["archive"]

    names = {f["name"]: f for f in archive["files"]}
    assert set(names) == {"sample_1", "cover"}
    assert names["cover"]["content_type"] == "image/png"
    sample_path = "task/68cdda24d26e4794bae177e20da740db.mp3"
    assert archive["sha256"] == generated.sha256(sample_path)  # the sample is "the audio"
    cover = await archive_client.get(names["cover"]["url"].removeprefix("http://fishhook.test"))
    assert cover.status_code == 200
    assert cover.content == generated.png("coverimage/fa75e7c3f02f42e79a6aa622b6cf075e")
    assert cover.headers["content-type"] == "image/png"


async def test_failed_downloads_are_retried_then_stored(archive_client, media):
    media.state.faults.append(generated.Fault(mode="fail", times=2))
    task = await speech_succeeded(archive_client, media.file("task/flaky.mp3"))

    archive = (await archived(archive_client, task["id"]))["archive"]

    assert archive["status"] == "stored"
    assert archive["sha256"] == generated.sha256("task/flaky.mp3")
    assert media.state.requested == ["task/flaky.mp3"] * 3


async def test_a_download_cut_short_is_never_stored_as_complete(serve, media, settings):
    media.state.size = 300_000
    media.state.faults.append(generated.Fault(mode="cut", times=1))
    async with serve(**quick(media, archive_max_attempts=1)) as (_app, client):
        task = await speech_succeeded(client, media.file("task/cut.mp3"))
        archive = (await archived(client, task["id"]))["archive"]

        assert archive["status"] == "failed"
        assert "cut short" in archive["error"]
        assert archive["size"] is None and archive["sha256"] is None
        assert not (archive_dir(settings) / task["id"]).exists()
        assert list((archive_dir(settings) / ".partial").iterdir()) == []
        answer = await client.get(f"/v1/tasks/{task['id']}/audio")
        assert answer.status_code == 409
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "archive_failed"


async def test_a_cut_download_is_copied_whole_on_the_next_try(archive_client, media):
    media.state.size = 300_000
    media.state.faults.append(generated.Fault(mode="cut", times=1))
    task = await speech_succeeded(archive_client, media.file("task/cut-then-ok.mp3"))

    archive = (await archived(archive_client, task["id"]))["archive"]

    assert archive["status"] == "stored"
    assert archive["sha256"] == generated.sha256("task/cut-then-ok.mp3", 300_000)


async def test_a_stalled_download_times_out(serve, media):
    media.state.faults.append(generated.Fault(mode="stall", times=1))
    changes = quick(media, archive_timeout=0.5, archive_max_attempts=1)
    async with serve(**changes) as (_app, client):
        task = await speech_succeeded(client, media.file("task/stall.mp3"))
        archive = (await archived(client, task["id"]))["archive"]
    assert archive["status"] == "failed"
    assert archive["error"].startswith("timeout")


async def test_gives_up_after_the_documented_number_of_tries(serve, media):
    media.state.faults.append(generated.Fault(mode="fail", times=100))
    async with serve(**quick(media, archive_max_attempts=3)) as (_app, client):
        task = await speech_succeeded(client, media.file("task/gone.mp3"))
        archive = (await archived(client, task["id"]))["archive"]
    assert archive["status"] == "failed"
    assert archive["error"] == "source answered 503; gave up after 3 attempts"
    assert len(media.state.requested) == 3


async def test_a_file_over_the_size_limit_fails_at_once(serve, media):
    media.state.size = 50_000
    async with serve(**quick(media, archive_max_bytes=10_000)) as (_app, client):
        task = await speech_succeeded(client, media.file("task/big.mp3"))
        archive = (await archived(client, task["id"]))["archive"]
    assert archive["status"] == "failed"
    assert "larger than FISHHOOK_ARCHIVE_MAX_BYTES" in archive["error"]
    assert len(media.state.requested) == 1


async def test_loopback_sources_are_refused_unless_private_addresses_are_allowed(serve, media):
    async with serve(**quick(media, relay_allow_private=False)) as (_app, client):
        task = await speech_succeeded(client, media.file("task/local.mp3"))
        archive = (await archived(client, task["id"]))["archive"]
    assert archive["status"] == "failed"
    assert archive["error"].startswith("unsafe_url")
    assert "FISHHOOK_RELAY_ALLOW_PRIVATE" in archive["error"]
    assert media.state.requested == []


async def test_audio_not_yet_copied_answers_409_not_archived_yet(serve, media):
    async with serve(**quick(media, archive_enabled=False)) as (_app, client):
        task = await speech_succeeded(client, media.file("task/later.mp3"))
        assert (await read(client, task["id"]))["archive"]["status"] == "pending"
        answer = await client.get(f"/v1/tasks/{task['id']}/audio")
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "not_archived_yet"
    assert answer.headers["retry-after"] == "5"


async def test_a_task_without_a_generated_file_answers_404(archive_client):
    task = await submit(archive_client, "speech")
    assert (await read(archive_client, task["id"]))["archive"] is None
    missing = await archive_client.get(f"/v1/tasks/{task['id']}/audio")
    assert (missing.status_code, missing.json()["code"]) == (404, "no_archived_file")
    unknown = await archive_client.get("/v1/tasks/tsk_nope/audio")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "task_not_found")


async def test_the_audio_needs_an_api_key(serve, media):
    async with serve(**quick(media, api_keys=["k" * 32])) as (_app, client):
        answer = await client.get("/v1/tasks/tsk_x/audio")
    assert answer.status_code == 401


async def test_files_are_kept_when_their_task_is_deleted_unless_asked(
    serve, media, settings, database_url
):
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    for delete_with_task in (False, True):
        changes = quick(media, archive_delete_with_task=delete_with_task)
        async with serve(**changes) as (app, client):
            task = await speech_succeeded(client, media.file(f"task/{delete_with_task}.mp3"))
            await archived(client, task["id"])
            engine = create_async_engine(database_url)
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM tasks WHERE id = :id"), {"id": task["id"]})
            await engine.dispose()
            pruned = await app.state.runtime.archiver.prune()
            kept = (archive_dir(settings) / task["id"] / "audio.mp3").exists()
            assert (pruned, kept) == ((1, False) if delete_with_task else (0, True))


async def test_the_inspector_plays_the_archived_copy(archive_client, media):
    media.state.size = 5_000
    task = await speech_succeeded(archive_client, media.file("task/played.mp3"))
    await archived(archive_client, task["id"])
    whole = b"".join(generated.content("task/played.mp3", 5_000)[2])

    page = await archive_client.get(f"/ui/tasks/{task['id']}")
    assert f'src="/ui/tasks/{task["id"]}/audio"' in page.text
    # AceData's URL dies: the page's player still reads fishhook's copy, and can seek.
    media.state.faults.append(generated.Fault(mode="fail", times=100))
    played = await archive_client.get(
        f"/ui/tasks/{task['id']}/audio", headers={"Range": "bytes=10-19"}
    )
    assert (played.status_code, played.content) == (206, whole[10:20])


async def test_with_the_archive_off_a_task_has_no_archive_and_no_audio_url(serve, media):
    async with serve(**quick(media, archive_url="none")) as (app, client):
        task = await speech_succeeded(client, media.file("task/never.mp3"))
        done = await read(client, task["id"])
        answer = await client.get(f"/v1/tasks/{task['id']}/audio")
        async with app.state.runtime.sessionmaker() as session:
            kept = await session.scalar(text("SELECT count(*) FROM archive_files"))
    assert done["status"] == "succeeded"
    assert done["archive"] is None  # not "pending" for ever
    assert kept == 0
    assert (answer.status_code, answer.json()["code"]) == (404, "archive_off")
