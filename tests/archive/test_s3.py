"""The archive on S3: moto's S3 server on loopback, through the same code as production
(obstore's S3 client, credentials from the standard AWS variables)."""

import hashlib
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from app.simulator import media as generated
from tests.support.archive import archived, quick, speech_succeeded
from tests.support.receiver import free_port

BUCKET = "fishhook-audio"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint, monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test-key-id",
        "AWS_SECRET_ACCESS_KEY": "test-secret-key",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    yield s3
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)


def objects(s3) -> dict[str, int]:
    return {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


async def test_audio_is_archived_to_s3_in_parts_and_served_with_range(
    serve, media, bucket, s3_endpoint
):
    size = 12 * 1024 * 1024  # three multipart parts
    media.state.size = size
    changes = quick(media, archive_url=f"s3://{BUCKET}/audio", archive_s3_endpoint_url=s3_endpoint)
    async with serve(**changes) as (_app, client):
        task = await speech_succeeded(client, media.file("task/s3.mp3"))
        archive = (await archived(client, task["id"]))["archive"]
        assert archive["status"] == "stored", archive
        key = f"audio/{task['id']}/audio.mp3"
        assert objects(bucket) == {key: size}
        stored = bucket.get_object(Bucket=BUCKET, Key=key)
        assert stored["ContentType"] == "audio/wav"
        assert hashlib.sha256(stored["Body"].read()).hexdigest() == generated.sha256(
            "task/s3.mp3", size
        )

        whole = await client.get(f"/v1/tasks/{task['id']}/audio")
        assert whole.status_code == 200
        assert hashlib.sha256(whole.content).hexdigest() == archive["sha256"]
        part = await client.get(
            f"/v1/tasks/{task['id']}/audio", headers={"Range": "bytes=5242000-5243999"}
        )
        assert part.status_code == 206
        assert part.content == whole.content[5_242_000:5_244_000]


async def test_a_cut_download_leaves_no_object_in_s3(serve, media, bucket, s3_endpoint):
    media.state.size = 12 * 1024 * 1024
    media.state.faults.append(generated.Fault(mode="cut", times=1))
    changes = quick(
        media,
        archive_url=f"s3://{BUCKET}/audio",
        archive_s3_endpoint_url=s3_endpoint,
        archive_max_attempts=1,
    )
    async with serve(**changes) as (_app, client):
        task = await speech_succeeded(client, media.file("task/s3-cut.mp3"))
        archive = (await archived(client, task["id"]))["archive"]
    assert archive["status"] == "failed"
    # What went wrong with the download, not how the S3 client wrapped it.
    assert archive["error"].startswith("download cut short"), archive["error"]
    assert objects(bucket) == {}
    # The parts already sent were thrown away with the upload, not left to be billed.
    assert bucket.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
