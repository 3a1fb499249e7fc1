"""Logs: one JSON object per line in json mode, readable console lines, and no field or line
a client can forge through what it sends."""

import io
import json
import logging
import os
import shlex
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from app.log import formatter, get_logger

FORGED_ID = "abc status=500 path=/admin"


@contextmanager
def captured(log_format: str) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(log_format))  # type: ignore[arg-type]
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def forged_requests(client) -> None:
    await client.get("/healthz", headers={"x-request-id": FORGED_ID})
    await client.get("/healthz", headers={"x-request-id": "line\nstatus=500 path=/admin"})
    await client.get("/no such status=500 path=/admin")


async def test_json_lines_carry_the_contracted_fields(client):
    with captured("json") as stream:
        await client.get("/healthz", headers={"x-request-id": "req-42"})
        get_logger("fishhook.test").info("something_happened", task="tsk_1", count=3)
    lines = stream.getvalue().splitlines()
    events = [json.loads(line) for line in lines]  # every line is one JSON object

    access = next(e for e in events if e["event"] == "request")
    assert access["request_id"] == "req-42"
    assert access["logger"] == "fishhook.access"
    assert access["level"] == "info"
    assert access["route"] == "/healthz"
    assert access["status"] == 200
    assert access["pid"] == os.getpid()
    assert access["timestamp"].endswith(("Z", "+00:00"))
    mine = next(e for e in events if e["event"] == "something_happened")
    assert (mine["task"], mine["count"]) == ("tsk_1", 3)


def test_a_traceback_is_one_field_of_one_line():
    with captured("json") as stream:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            get_logger("fishhook.test").exception("it_failed", job="x")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["event"] == "it_failed"
    assert "RuntimeError: boom" in event["exception"]
    assert event["level"] == "error"


async def test_a_client_cannot_forge_json_fields(client):
    with captured("json") as stream:
        await forged_requests(client)
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [e for e in events if e["event"] == "request"]

    assert len(access) == 3
    assert all(e["status"] in (200, 404) for e in access)
    assert all(FORGED_ID not in str(e["request_id"]) for e in access)
    assert all("\n" not in str(e["request_id"]) for e in access)
    assert access[2]["path"] == "/no such status=500 path=/admin"  # a value, not fields
    assert access[2]["route"] == "unmatched"


async def test_a_client_cannot_forge_console_fields_or_lines(client):
    with captured("console") as stream:
        await forged_requests(client)
    lines = [line for line in stream.getvalue().splitlines() if "fishhook.access" in line]

    assert len(lines) == 3  # one per request: no injected line
    assert len(stream.getvalue().splitlines()) == len(lines) + 3  # and httpx's three
    for line in lines:
        # Read as a logfmt reader would: quoted values are one token.
        tokens = [t for t in shlex.split(line) if t.startswith(("status=", "path="))]
        statuses = [t for t in tokens if t.startswith("status=")]
        assert statuses in (["status=200"], ["status=404"])
        assert [t for t in tokens if t.startswith("path=")] != ["path=/admin"]
    assert "path='/no such status=500 path=/admin'" in lines[2]


def test_control_characters_are_escaped_on_the_console():
    with captured("console") as stream:
        get_logger("fishhook.test").warning("odd\nevent", value="a\nb\x1b[31m")
    [line] = stream.getvalue().splitlines()
    assert "\\n" in line and "\x1b" not in line


async def test_a_well_formed_request_id_is_kept_and_echoed(client):
    answer = await client.get("/healthz", headers={"x-request-id": "trace.abc-123"})
    assert answer.headers["x-request-id"] == "trace.abc-123"
    forged = await client.get("/healthz", headers={"x-request-id": FORGED_ID})
    assert forged.headers["x-request-id"] != FORGED_ID


@pytest.mark.parametrize("tty", [True, False])
def test_the_default_format_follows_the_terminal(monkeypatch, tty):
    from app import log

    monkeypatch.setattr(log.sys.stderr, "isatty", lambda: tty)
    assert log.default_format() == ("console" if tty else "json")
