"""GET /: recent tasks and deliveries for people, escaped, behind the API key when set."""

from pydantic import SecretStr

from tests.support.api import callback_path, post_callback, submit


async def test_dashboard_shows_a_submitted_task_and_its_callback(client):
    task = await submit(client, "speech")
    answer = await post_callback(client, task["id"], {"task_id": task["task_id"], "audio_url": "x"})
    delivery_id = answer.json()["delivery_id"]

    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none'
    html = page.text
    assert f'href="/v1/tasks/{task["id"]}"' in html
    assert f'href="/v1/deliveries/{delivery_id}"' in html
    assert task["task_id"] in html
    assert "Hello from fishhook." in html
    assert "succeeded" in html and "applied" in html


async def test_dashboard_escapes_untrusted_values(client):
    hostile = "<script>alert(1)</script>"
    task = await submit(client, title=hostile)
    failure = {"success": False, "task_id": task["task_id"], "error": {"code": '"><img src=x>'}}
    await post_callback(client, task["id"], failure)
    await client.post('/callbacks?task="><b>forged&token=x', json={"task_id": "t"})

    html = (await client.get("/")).text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html
    assert "<b>forged" not in html


async def test_dashboard_needs_the_api_key_when_keys_are_set(app, client, settings):
    settings.api_keys = [SecretStr("dashboard-key")]
    refused = await client.get("/")
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_api_key"
    allowed = await client.get("/", headers={"authorization": "Bearer dashboard-key"})
    assert allowed.status_code == 200
    assert "dashboard-key" not in allowed.text


async def test_dashboard_shows_no_callback_credential_or_webhook_url(app, client, settings):
    settings.relay_allow_private = True
    settings.relay_enabled = False
    webhook = "http://127.0.0.1:9/hook?sig=webhook-secret-in-url"
    task = await submit(client, callback_url=webhook)
    token = callback_path(task["id"]).split("token=")[1]
    await post_callback(client, task["id"], {"task_id": task["task_id"], "audio_url": "x"})

    html = (await client.get("/")).text
    assert task["id"] in html
    assert token not in html
    assert "webhook-secret-in-url" not in html
