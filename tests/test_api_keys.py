from pydantic import SecretStr

from tests.support.api import post_callback, submit


async def test_with_api_keys_v1_needs_a_bearer_key(app, client, settings):
    settings.api_keys = [SecretStr("key-one"), SecretStr("key-two")]

    refused = await client.get("/v1/tasks")
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_api_key"
    assert "key-one" not in refused.text
    wrong = await client.get("/v1/tasks", headers={"authorization": "Bearer key-three"})
    assert wrong.status_code == 401
    ok = await client.get("/v1/tasks", headers={"authorization": "Bearer key-two"})
    assert ok.status_code == 200


async def test_callbacks_do_not_take_api_keys_but_their_own_credential(app, client, settings):
    client.headers["authorization"] = "Bearer key-one"
    task = await submit(client)
    settings.api_keys = [SecretStr("key-one")]
    client.headers.pop("authorization")
    answer = await post_callback(
        client, task["id"], {"task_id": task["task_id"], "audio_url": "https://a.example/a.mp3"}
    )
    assert answer.status_code == 200
    assert answer.json()["outcome"] == "applied"
