"""The inspector in a real headless Chromium against `fishhook serve` and the simulator:
sign-in, live updates, a request and its Replay, a task's audio and relay attempts, search,
escaping, sign-out; and no console error or CSP violation on any page."""

import json
import time
from typing import Any

import httpx
import pytest

from app.callbacks import credentials
from tests.inspector import browser
from tests.inspector.conftest import API_KEY, CALLBACK_SECRET

pytestmark = pytest.mark.e2e

WAIT = 10.0


def _wait(driver: Any, css: str, timeout: float = WAIT) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def _text_appears(driver: Any, text: str, timeout: float = WAIT) -> None:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if text in driver.find_element("tag name", "body").text:
                return
        except (StaleElementReferenceException, NoSuchElementException):
            pass  # the page was replaced between the lookup and the read (a navigation)
        time.sleep(0.05)
    raise AssertionError(f"{text!r} did not appear on {driver.current_url}")


def _api(service: Any) -> httpx.Client:
    return httpx.Client(
        base_url=service.url, headers={"authorization": f"Bearer {API_KEY}"}, timeout=15
    )


def _finished_speech(service: Any, **fields: Any) -> dict[str, Any]:
    with _api(service) as api:
        task = api.post(
            "/v1/speech", json={"text": "Hello from the browser test.", **fields}
        ).json()
        for _ in range(200):
            task = api.get(f"/v1/tasks/{task['id']}").json()
            if task["status"] == "succeeded":
                return task
            time.sleep(0.05)
    raise AssertionError(f"task {task['id']} did not finish")


def _post_callback(service: Any, task: dict[str, Any], body: dict[str, Any]) -> str:
    path = credentials.callback_url(service.url, CALLBACK_SECRET.encode(), task["id"])
    answer = httpx.post(
        path, content=json.dumps(body), headers={"content-type": "application/json"}
    )
    delivery_id: str = answer.json()["delivery_id"]
    return delivery_id


def _clean(driver: Any) -> None:
    problems = browser.problems(driver)
    assert not problems, problems


@pytest.fixture
def signed_in(chrome: Any, inspected: Any) -> Any:
    chrome.get(inspected.url + "/")
    if "/ui/login" in chrome.current_url:
        chrome.find_element("id", "key").send_keys(API_KEY + "\n")
        _wait(chrome, "[data-region=deliveries]")
    _clean(chrome)
    return chrome


def test_sign_in_with_a_wrong_key_then_the_right_one(chrome, inspected):
    chrome.delete_all_cookies()
    chrome.get(inspected.url + "/ui/tasks")
    assert "/ui/login" in chrome.current_url
    chrome.find_element("id", "key").send_keys("not-the-key\n")
    _text_appears(chrome, "not one of this service's API keys")
    assert "not-the-key" not in chrome.page_source
    chrome.find_element("id", "key").send_keys(API_KEY + "\n")
    _wait(chrome, "form.filters")
    assert chrome.current_url.endswith("/ui/tasks")
    assert API_KEY not in chrome.page_source and API_KEY not in chrome.current_url
    _clean(chrome)


def test_a_callback_posted_from_outside_appears_on_the_open_overview(signed_in, inspected):
    task = _finished_speech(inspected)
    signed_in.execute_script("window.__sameDocument = true")
    _wait(signed_in, "#live-status.on")
    delivery_id = _post_callback(
        inspected,
        task,
        {"task_id": task["task_id"], "audio_url": "https://cdn.example.com/live.mp3"},
    )
    started = time.monotonic()
    _wait(signed_in, f'[data-id="{delivery_id}"]', timeout=5)
    arrived = time.monotonic() - started
    assert signed_in.execute_script("return window.__sameDocument") is True  # no reload
    assert arrived < 1.5, arrived
    _clean(signed_in)


def test_open_a_request_see_its_body_and_headers_then_replay_it(signed_in, inspected):
    task = _finished_speech(inspected)
    delivery_id = _post_callback(
        inspected, task, {"task_id": task["task_id"], "audio_url": "https://cdn.example.com/r.mp3"}
    )
    signed_in.get(f"{inspected.url}/ui/deliveries")
    signed_in.find_element("css selector", f'a[href="/ui/deliveries/{delivery_id}"]').click()
    _wait(signed_in, "#pretty-body .j-key")
    pretty = signed_in.find_element("id", "pretty-body").text
    assert '"audio_url": "https://cdn.example.com/r.mp3"' in pretty
    headers = signed_in.find_element("css selector", "table.headers").text
    assert "content-type" in headers and "application/json" in headers
    assert "$FISHHOOK_CALLBACK_TOKEN" in signed_in.find_element("id", "curl").text
    signed_in.find_element("id", "replay").click()
    _text_appears(signed_in, f"Replayed {delivery_id}: late")  # the simulator called back first
    assert "/ui/deliveries/dlv_" in signed_in.current_url
    _clean(signed_in)


def test_task_page_has_its_audio_and_shows_relay_attempts_as_they_happen(
    signed_in, inspected, webhook
):
    task = _finished_speech(inspected, callback_url=webhook)
    signed_in.get(f"{inspected.url}/ui/tasks/{task['task_id']}")
    audio = _wait(signed_in, "audio#audio")
    # AceData's URL, or fishhook's own copy once the archive has stored it (a race).
    archived = f"{inspected.url}/ui/tasks/{task['id']}/audio"
    assert audio.get_attribute("src") in (task["output"]["audio_url"], archived)
    _wait(signed_in, "table.attempts tr.ok")
    assert "200" in signed_in.find_element("css selector", "table.attempts").text
    signed_in.execute_script("window.__sameDocument = true")
    signed_in.find_element("id", "resend").click()
    _text_appears(signed_in, "Sent again (attempt 2): 200")
    _text_appears(signed_in, "Relay attempt 2 (resent by hand)")
    _clean(signed_in)


def test_search_finds_a_delivery_by_a_word_in_its_body(signed_in, inspected):
    task = _finished_speech(inspected)
    delivery_id = _post_callback(
        inspected,
        task,
        {"task_id": task["task_id"], "audio_url": "https://x.test/a.mp3", "note": "a quokka waved"},
    )
    search = signed_in.find_element("id", "global-search")
    search.send_keys("QUOKKA\n")
    _wait(signed_in, f'[data-id="{delivery_id}"]')
    assert len(signed_in.find_elements("css selector", "ul.rows > li")) == 1
    _clean(signed_in)


def test_a_script_in_a_callback_body_renders_as_text(signed_in, inspected):
    task = _finished_speech(inspected)
    hostile = "<script>window.__pwned = 1</script><img src=x onerror=window.__pwned=2>"
    delivery_id = _post_callback(
        inspected,
        task,
        {"task_id": task["task_id"], "audio_url": "https://x.test/a.mp3", "note": hostile},
    )
    for path in ("/", "/ui/deliveries", f"/ui/deliveries/{delivery_id}"):
        signed_in.get(inspected.url + path)
        _wait(signed_in, "main")
        assert signed_in.execute_script("return window.__pwned") is None, path
    assert "<script>window.__pwned = 1</script>" in signed_in.find_element(
        "id", "raw-body"
    ).get_attribute("textContent")
    _clean(signed_in)


def test_every_page_is_free_of_console_errors_and_csp_violations(signed_in, inspected):
    task = _finished_speech(inspected)
    delivery_id = _post_callback(
        inspected, task, {"task_id": task["task_id"], "audio_url": "https://x.test/a.mp3"}
    )
    pages = [
        "/",
        "/ui/tasks",
        "/ui/deliveries",
        "/ui/tasks?status=succeeded&kind=speech",
        f"/ui/tasks/{task['id']}",
        f"/ui/deliveries/{delivery_id}",
        "/ui/deliveries?q=audio",
    ]
    for path in pages:
        signed_in.get(inspected.url + path)
        _wait(signed_in, "footer")
        time.sleep(0.2)
        assert browser.problems(signed_in) == [], path


def test_sign_out(signed_in, inspected):
    signed_in.find_element("css selector", "form.logout button").click()
    _wait(signed_in, "#key")
    signed_in.get(inspected.url + "/ui/deliveries")
    assert "/ui/login" in signed_in.current_url
    _clean(signed_in)
