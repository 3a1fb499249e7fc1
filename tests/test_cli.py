"""`fishhook serve`: the built-in simulator is for local use only, never a silent fallback."""

import argparse
import logging
import os
from collections.abc import Iterator

import pytest

from app import cli
from app.config import DEFAULT_ACEDATA_BASE_URL, get_settings

SERVER_DB = "postgresql+asyncpg://fishhook@db:5432/fishhook"


@pytest.mark.parametrize(
    ("has_token", "base_url", "database_url", "expected"),
    [
        (False, DEFAULT_ACEDATA_BASE_URL, None, True),
        (False, DEFAULT_ACEDATA_BASE_URL, SERVER_DB, False),
        (True, DEFAULT_ACEDATA_BASE_URL, None, False),
        (False, "https://acedata.internal", None, False),
    ],
)
def test_simulator_only_without_token_base_url_and_database_server(
    has_token, base_url, database_url, expected
):
    assert cli.wants_simulator(has_token, base_url, database_url) is expected


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Run `serve` with nothing started: records what it would have started."""
    started: list[str] = []
    for name in ("FISHHOOK_ACEDATA_TOKEN", "FISHHOOK_ACEDATA_BASE_URL", "FISHHOOK_DATABASE_URL"):
        # setenv first, so the value serve() writes into os.environ is undone afterwards.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setattr(cli, "configure_logging", lambda *_: None)
    monkeypatch.setattr(cli, "database_url", lambda url, data_dir: url or "embedded")
    monkeypatch.setattr(cli, "upgrade", lambda url: None)
    monkeypatch.setattr(cli, "_start_simulator", lambda port: started.append("simulator"))
    monkeypatch.setattr(
        "app.supervisor.Supervisor.run", lambda self: started.append("workers") or 0
    )
    get_settings.cache_clear()
    yield started
    get_settings.cache_clear()


def _serve() -> None:
    cli.serve(argparse.Namespace(host=None, port=None, workers=1))


def test_serve_with_a_database_server_and_no_token_refuses_submits_instead_of_simulating(
    served, monkeypatch, caplog
):
    monkeypatch.setenv("FISHHOOK_DATABASE_URL", SERVER_DB)
    with caplog.at_level(logging.ERROR, logger="fishhook.cli"):
        _serve()
    assert served == ["workers"]
    [record] = [r for r in caplog.records if r.getMessage() == "acedata_not_configured"]
    assert "FISHHOOK_ACEDATA_TOKEN is not set" in record.detail


def test_serve_locally_without_a_token_starts_the_simulator(served):
    _serve()
    assert served == ["simulator", "workers"]


def test_serve_leaves_no_environment_behind():
    # The fixture above undid what serve() wrote (it exports the database URL to workers).
    assert os.environ.get("FISHHOOK_DATABASE_URL") != "embedded"


def test_serve_says_which_public_url_callbacks_use_and_a_port_flag_moves_it(
    served, monkeypatch, caplog
):
    monkeypatch.setenv("FISHHOOK_PORT", "8000")  # undone afterwards, whatever serve() writes
    monkeypatch.delenv("FISHHOOK_PUBLIC_URL", raising=False)
    with caplog.at_level(logging.INFO, logger="fishhook.cli"):
        cli.serve(argparse.Namespace(host=None, port=8765, workers=1))
    [said] = [r for r in caplog.records if r.getMessage() == "callbacks_public_url"]
    assert said.url == "http://127.0.0.1:8765"
    # The workers read their settings from the environment: the same URL.
    assert os.environ["FISHHOOK_PORT"] == "8765"


def test_every_worker_runs_with_the_request_limits():
    settings = get_settings()
    options = cli.worker_options(settings, "127.0.0.1", 8123)
    assert options["http"] == "app.http_protocol:GuardedProtocol"
    assert (options["host"], options["port"], options["loop"]) == ("127.0.0.1", 8123, "uvloop")
    assert options["timeout_graceful_shutdown"] == settings.shutdown_timeout
