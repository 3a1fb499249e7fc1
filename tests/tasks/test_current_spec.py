"""/v1/speech takes every field of AceData's current /fish/tts spec and forwards it as is."""

CURRENT = {
    "text": "Hello.",
    "format": "wav",
    "references": [{"audio": "https://cdn.example.com/a.mp3", "text": "Hello."}],
    "reference_id": ["fa75e7c3f02f42e79a6aa622b6cf075e", "d7900c21663f485ab63ebdb7e5905036"],
    "opus_bitrate": 32,
    "min_chunk_length": 50,
    "latency": "balanced",
    "model": "s2.1-pro",
}


async def test_every_current_field_is_accepted_and_forwarded(client, acedata):
    answer = await client.post("/v1/speech", json=CURRENT)

    assert answer.status_code == 202, answer.text
    [sent] = acedata.sent("/fish/tts")
    assert acedata.requests[0].headers["model"] == "s2.1-pro"
    sent.pop("callback_url")
    assert sent == {k: v for k, v in CURRENT.items() if k != "model"}


async def test_async_is_for_fish_tts_only(client):
    answer = await client.post("/v1/speech", json={"text": "Hi.", "async": True})
    assert answer.status_code == 422
