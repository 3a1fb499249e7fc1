"""In a headless Chromium that cannot reach the internet, /docs and /redoc render every
operation of the OpenAPI document."""

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.e2e

WAIT = 60  # seconds; CI machines are slow and shared
# ReDoc's sidebar tries this logo and hides it when it cannot load: nothing is missing offline.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _operations(base_url: str) -> int:
    document = httpx.get(f"{base_url}/openapi.json", timeout=30).json()
    methods = {"get", "post", "put", "patch", "delete"}
    return sum(1 for item in document["paths"].values() for m in item if m in methods)


def _loaded_from(browser) -> set[str]:
    entries = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return {entry.split("/")[2] for entry in entries if entry != REDOC_LOGO}


def _console_errors(browser) -> list[dict]:
    logs = browser.get_log("browser")
    return [e for e in logs if e["level"] == "SEVERE" and REDOC_LOGO not in e["message"]]


def test_swagger_ui_renders_every_operation_offline(browser, docs_service):
    expected = _operations(docs_service.url)
    browser.get(f"{docs_service.url}/docs")
    WebDriverWait(browser, WAIT).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, ".opblock")) >= expected
    )
    paths = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert {"/callbacks", "/v1/voices", "/v1/tasks/{task_ref}"} <= paths
    assert _loaded_from(browser) == {f"127.0.0.1:{docs_service.port}"}
    assert _console_errors(browser) == []


def test_redoc_renders_every_operation_offline(browser, docs_service):
    expected = _operations(docs_service.url)
    browser.get(f"{docs_service.url}/redoc")
    WebDriverWait(browser, WAIT).until(
        lambda b: (
            len(b.find_elements(By.CSS_SELECTOR, "[data-section-id^='operation/']")) >= expected
        )
    )
    assert "Receive an AceData callback" in browser.page_source
    logo = browser.find_elements(By.CSS_SELECTOR, "img[alt='redocly logo']")
    assert all(not img.is_displayed() for img in logo)
    assert _loaded_from(browser) == {f"127.0.0.1:{docs_service.port}"}
    assert _console_errors(browser) == []
