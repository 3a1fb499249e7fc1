"""The simulator serves real files at the URLs it returns, and can fail, stall or cut them."""

import hashlib
import wave
from io import BytesIO

import httpx
import pytest

from app.simulator import media
from tests.support.simulator import SimEnv


async def test_the_audio_url_of_a_result_serves_a_playable_wav(sim: SimEnv) -> None:
    answer = await sim.fish("/fish/tts", {"text": "hi", "reference_id": "x" * 32})
    url = answer.json()["audio_url"]

    audio = await sim.client.get(url)

    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/wav"
    path = url.split("/media/", 1)[1]
    assert int(audio.headers["content-length"]) == len(audio.content) == media.default_size(path)
    assert hashlib.sha256(audio.content).hexdigest() == media.sha256(path)
    with wave.open(BytesIO(audio.content)) as played:
        assert (played.getnchannels(), played.getsampwidth(), played.getframerate()) == (
            1,
            2,
            22050,
        )
        assert played.getnframes() == (len(audio.content) - 44) // 2


async def test_a_voice_results_cover_is_a_png(sim: SimEnv) -> None:
    answer = await sim.client.get("/media/coverimage/abc")
    assert answer.headers["content-type"] == "image/png"
    assert answer.content.startswith(b"\x89PNG\r\n\x1a\n")


async def test_scripted_faults_fail_then_serve(sim: SimEnv) -> None:
    await sim.client.post("/_sim/media/faults", json={"mode": "fail", "times": 2})
    codes = [(await sim.client.get("/media/task/a.mp3")).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert (await sim.client.get("/_sim/media")).json()["requested"] == ["task/a.mp3"] * 3


async def test_a_cut_download_ends_before_its_content_length(sim: SimEnv) -> None:
    await sim.client.post("/_sim/media/size", json={"size": 100_000})
    await sim.client.post("/_sim/media/faults", json={"mode": "cut"})
    with pytest.raises((ConnectionAbortedError, httpx.HTTPError)):
        await sim.client.get("/media/task/cut.mp3")
