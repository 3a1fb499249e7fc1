"""The inspector's browser tests: the simulator and `fishhook serve` as real processes, with
API keys set, and one headless Chromium for the module."""

import asyncio
import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.inspector import browser
from tests.support.database import empty_tables as _empty_tables
from tests.support.processes import Service, service, simulator

API_KEY = "browser-test-api-key-0123456789"
CALLBACK_SECRET = "browser-test-callback-secret-0123456789"


class _Webhook(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.end_headers()
        self.wfile.write(b"thanks")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def webhook() -> Iterator[str]:
    """A client's webhook receiver in a thread (the tests block on the browser)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def inspected(database_url: str) -> Iterator[Service]:
    if not browser.available():
        pytest.skip(browser.MISSING)
    settings = {
        "api_keys": API_KEY,
        "callback_secret": CALLBACK_SECRET,
        "relay_allow_private": "true",
        "relay_interval": "0.05",
    }
    with simulator(delay=0.3) as sim_url, service(database_url, sim_url, **settings) as svc:
        yield svc
    asyncio.run(_empty_tables(database_url))  # the next test modules start from empty tables


@pytest.fixture(scope="module")
def chrome(inspected: Service) -> Iterator[Any]:
    with browser.chromium() as driver:
        yield driver
