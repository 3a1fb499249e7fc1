"""Fetching one generated file: SSRF-checked like the relay, redirects re-checked, streamed,
bounded in size, and refused when cut short.

    DownloadError          the copy failed; `permanent` says whether to try again
"""

import hashlib
import mimetypes
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from app import url_safety as safety

MAX_REDIRECTS = 5
CHUNK = 64 * 1024


class DownloadError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(slots=True)
class Body:
    """The answer's body as it streams by: hashed, counted, and held to the size limit."""

    response: httpx.Response
    max_bytes: int
    content_type: str
    size: int = 0
    # Why the stream stopped, kept because a storage client may wrap what it raised.
    error: DownloadError | None = None
    _digest: "hashlib._Hash" = field(default_factory=hashlib.sha256)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._checked():
                yield chunk
        except DownloadError as exc:
            self.error = exc
            raise

    async def _checked(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.response.aiter_bytes(CHUNK):
                self.size += len(chunk)
                if self.size > self.max_bytes:
                    raise DownloadError(
                        f"file is larger than FISHHOOK_ARCHIVE_MAX_BYTES ({self.max_bytes})",
                        permanent=True,
                    )
                self._digest.update(chunk)
                yield chunk
        except httpx.HTTPError as exc:
            # A connection closed before the announced length arrived lands here (h11).
            raise DownloadError(f"download cut short: {type(exc).__name__}: {exc}"[:500]) from None
        expected = self.response.headers.get("content-length")
        encoded = self.response.headers.get("content-encoding", "identity") != "identity"
        if (
            expected is not None
            and not encoded
            and expected.isdigit()
            and int(expected) != self.size
        ):
            raise DownloadError(f"download cut short: {self.size} of {expected} bytes")


def source(url: str, media_base: str) -> str:
    """An absolute URL for what AceData wrote: cover images and samples come as paths."""
    return url if urlsplit(url).scheme else urljoin(media_base, url.lstrip("/"))


def suffix(url: str) -> str:
    """The file extension to keep in the storage key (".mp3"), if the URL has a sane one."""
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    return f".{ext.lower()}" if ext.isalnum() and len(ext) <= 5 else ""


@asynccontextmanager
async def fetch(
    http: httpx.AsyncClient, url: str, *, allow_private: bool, max_bytes: int
) -> AsyncIterator[Body]:
    """The file at `url`, ready to stream; every redirect hop is checked like the first."""
    for _ in range(MAX_REDIRECTS + 1):
        try:
            target = await safety.check(url, allow_private=allow_private)
        except safety.UnsafeURL as exc:
            # url_safety speaks of callback URLs; here it is the file's.
            reason = str(exc).replace("callback_url", "the file's URL")
            raise DownloadError(f"unsafe_url: {reason}", permanent=True) from None
        request_url, headers, extensions = safety.pinned(target)
        request = http.build_request(
            "GET",
            request_url,
            headers={**headers, "accept-encoding": "identity"},
            extensions=extensions,
        )
        try:
            response = await http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise DownloadError(f"{type(exc).__name__}: {exc}"[:500]) from None
        try:
            if response.is_redirect and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code != 200:
                raise DownloadError(f"source answered {response.status_code}")
            _refuse_announced_oversize(response, max_bytes)
            yield Body(response, max_bytes, _content_type(response, url))
            return
        finally:
            await response.aclose()
    raise DownloadError(f"more than {MAX_REDIRECTS} redirects", permanent=True)


def _refuse_announced_oversize(response: httpx.Response, max_bytes: int) -> None:
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise DownloadError(
            f"file of {length} bytes is larger than FISHHOOK_ARCHIVE_MAX_BYTES ({max_bytes})",
            permanent=True,
        )


def _content_type(response: httpx.Response, url: str) -> str:
    given = str(response.headers.get("content-type", "")).split(";")[0].strip().lower()
    if given and given not in ("application/octet-stream", "binary/octet-stream"):
        return given
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    return str(guessed or given or "application/octet-stream")
