"""Limits no client can pass: header block size (431), slow heads and bodies (408), open
connections per worker (503); each answered problem+json, nothing stored."""

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import uvicorn

from app.http_protocol import GuardedProtocol, Limits
from tests.support.api import VOICE, callback_path, submit

BIG = "x" * 40_000  # over the default FISHHOOK_MAX_HEADER_BYTES of 32768


async def delivery_count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/v1/deliveries", params={"limit": 100})).json()["items"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/callbacks"),
        ("POST", "/callbacks?task=tsk_x&token=y"),
        ("GET", "/v1/tasks"),
        ("POST", "/v1/voices"),
        ("GET", "/v1/deliveries"),
        ("GET", "/healthz"),
    ],
)
async def test_a_header_block_over_the_limit_is_431_and_nothing_is_stored(client, method, path):
    answer = await client.request(method, path, headers={"x-padding": BIG}, json=VOICE)
    assert answer.status_code == 431
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "headers_too_large"
    assert answer.headers["connection"] == "close"
    assert await delivery_count(client) == 0
    assert (await client.get("/v1/tasks")).json()["items"] == []


async def test_many_small_headers_count_together(client):
    headers = [(f"x-h{i}", "y" * 100) for i in range(400)]
    answer = await client.post("/callbacks", headers=headers, content=b"{}")
    assert answer.status_code == 431
    assert await delivery_count(client) == 0


async def test_a_long_query_string_counts_as_part_of_the_head(client):
    answer = await client.post(f"/callbacks?pad={BIG}", content=b"{}")
    assert answer.status_code == 431


async def test_the_header_limit_is_a_setting(serve):
    async with serve(max_header_bytes=1000) as (_, client):
        answer = await client.get("/healthz", headers={"x-padding": "y" * 1000})
        assert answer.status_code == 431
        assert "1000 bytes" in answer.json()["detail"]
        assert (await client.get("/healthz", headers={"x-padding": "y" * 500})).status_code == 200


async def test_a_stored_header_value_is_bounded(client):
    task = await submit(client)
    answer = await client.post(
        callback_path(task["id"]), headers={"x-long": "z" * 20_000}, json={"task_id": "t"}
    )
    stored = await client.get(f"/v1/deliveries/{answer.json()['delivery_id']}")
    value = stored.json()["headers"]["x-long"]
    assert len(value) < 2_100
    assert value.endswith("more characters]")


async def test_a_body_that_trickles_in_is_408(serve):
    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"task_id":'
        await asyncio.sleep(1.0)
        yield b' "x"}'

    async with serve(client_timeout=0.3) as (_, client):
        answer = await client.post(
            "/callbacks?task=tsk_x&token=y",
            content=trickle(),
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == 408
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "request_timeout"
        slow_submit = await client.post("/v1/voices", content=trickle())
        assert slow_submit.status_code == 408


# --- the served protocol: a real uvicorn server on a loopback port --------------------------


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@contextlib.asynccontextmanager
async def guarded_server(limits: Limits) -> AsyncIterator[int]:
    protocol = type("TestProtocol", (GuardedProtocol,), {"limits": limits})
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(_echo, http=protocol, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
    raw = await asyncio.wait_for(reader.read(), timeout=5)  # until the server closes
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head[9:12]), json.loads(body)


LIMITS = Limits(head_timeout=0.5, max_head_bytes=4096, max_connections=4)


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


def _trickle(port: int, data: bytes, delay: float) -> bytes:
    """Send `data` a byte at a time until the server hangs up; what it answered."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.settimeout(5)
        with contextlib.suppress(OSError):
            for byte in data:
                conn.sendall(bytes([byte]))
                time.sleep(delay)
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := conn.recv(65536):
                answer += chunk
        return answer


async def test_a_head_sent_a_byte_at_a_time_is_cut_off_with_408():
    async with guarded_server(LIMITS) as port:
        started = time.monotonic()
        raw = await asyncio.to_thread(
            _trickle, port, b"POST /callbacks HTTP/1.1\r\nHost: x\r\n", 0.05
        )
        assert time.monotonic() - started < 1.5
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408")
        assert json.loads(body)["code"] == "request_timeout"


async def test_a_connection_that_sends_nothing_is_closed_after_the_timeout():
    async with guarded_server(LIMITS) as port:
        reader, writer = await _open(port)
        status, _ = await _read_answer(reader)
        assert status == 408
        writer.close()


async def test_an_endless_header_is_431_before_it_completes():
    async with guarded_server(LIMITS) as port:
        reader, writer = await _open(port)
        writer.write(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 10_000)
        status, problem = await _read_answer(reader)
        assert status == 431
        assert problem["code"] == "headers_too_large"
        writer.close()


async def test_honest_requests_and_bodies_larger_than_the_head_limit_pass():
    async with guarded_server(LIMITS) as port, httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{port}/callbacks"
        for _ in range(3):  # keep-alive: the head limit applies per request
            answer = await client.post(url, content=b"b" * 100_000)
            assert answer.status_code == 200


async def test_connections_over_the_cap_are_refused_with_503():
    async with guarded_server(LIMITS) as port:
        held = [await _open(port) for _ in range(LIMITS.max_connections)]
        reader, writer = await _open(port)
        status, problem = await _read_answer(reader)
        assert status == 503
        assert problem["code"] == "too_many_connections"
        for _, w in [*held, (reader, writer)]:
            w.close()


def test_fishhook_serve_runs_uvicorn_with_the_guarded_protocol(settings):
    from app.http_protocol import uvicorn_options

    options: dict[str, Callable[..., Any] | Any] = uvicorn_options(settings)
    config = uvicorn.Config(_echo, **options)
    config.load()
    assert config.http_protocol_class is GuardedProtocol


async def test_answers_written_as_one_arrive_whole_and_in_order():
    """The protocol joins a response's writes (OneWritePerTurn): pipelined requests still get
    every answer, in order, and a `Connection: close` answer is sent before the close."""
    async with guarded_server(LIMITS) as port:
        reader, writer = await _open(port)
        request = b"POST /callbacks HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
        closing = request.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n")
        writer.write(request * 3 + closing)
        raw = await asyncio.wait_for(reader.read(), timeout=5)  # until the server closes
        writer.close()
    answers = raw.split(b"HTTP/1.1 ")[1:]
    assert [a.split(b" ", 1)[0] for a in answers] == [b"200"] * 4
    assert all(a.endswith(b"\r\n\r\n2\r\nok\r\n0\r\n\r\n") for a in answers)  # chunked
    assert b"connection: close" in answers[-1]
