"""One relay attempt over HTTP: signed, short timeouts, no redirects, a bounded read."""

import asyncio
import time
from dataclasses import dataclass

import httpx

from app import url_safety as safety
from app.backoff import retry_after
from app.relay import signing

EXCERPT_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Answer:
    latency_ms: int
    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


async def send(
    http: httpx.AsyncClient,
    url: str,
    *,
    key: bytes,
    message_id: str,
    body: bytes,
    seconds: float,
    allow_private: bool,
) -> Answer:
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        # The address check resolves DNS, which can hang too: it counts against the timeout.
        async with asyncio.timeout(seconds):
            try:
                target = await safety.check(url, allow_private=allow_private)
            except safety.UnsafeURL as exc:
                return Answer(elapsed(), error=f"unsafe_url: {exc}")
            request_url, extra_headers, extensions = safety.pinned(target)
            headers = {**signing.headers(key, message_id, int(time.time()), body), **extra_headers}
            request = http.build_request(
                "POST", request_url, content=body, headers=headers, extensions=extensions
            )
            response = await http.send(request, stream=True)
            try:
                excerpt = await _excerpt(response)
            finally:
                await response.aclose()
    except TimeoutError:
        return Answer(elapsed(), error=f"timeout: no answer within {seconds} s")
    except (httpx.HTTPError, OSError) as exc:
        return Answer(elapsed(), error=f"{type(exc).__name__}: {exc}"[:500])
    return Answer(
        elapsed(),
        status_code=response.status_code,
        excerpt=excerpt,
        retry_after=retry_after(response.headers.get("retry-after")),
    )


async def _excerpt(response: httpx.Response) -> str:
    """The first bytes of the answer; the rest is never read (a receiver may answer forever)."""
    kept = b""
    async for chunk in response.aiter_raw():
        kept += chunk
        if len(kept) >= EXCERPT_BYTES:
            break
    return kept[:EXCERPT_BYTES].decode("utf-8", "replace")
