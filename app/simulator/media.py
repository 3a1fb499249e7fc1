"""The generated files behind the URLs the simulator returns: real audio (16-bit PCM WAV,
a tone per file) and cover images (PNG), made on the fly in constant memory, with faults
a test can script (an error answer, a stall, a connection cut mid-body).

GET /media/{path}            the file; its bytes depend only on its path and size
POST /_sim/media/faults      {"mode": "fail" | "stall" | "cut", "times": n}: the next n files
POST /_sim/media/size        {"size": n}: every file is n bytes (null: 4 KB to 2 MB by name)
GET /_sim/media              the paths requested so far
"""

import asyncio
import hashlib
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

SAMPLE_RATE = 22_050
BLOCK = 64 * 1024
MIN_SIZE, SPREAD = 4 * 1024, 2 * 1024 * 1024


class Fault(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["fail", "stall", "cut"]
    times: int = Field(default=1, ge=1)


class Size(BaseModel):
    size: int | None = Field(default=None, ge=64)


@dataclass
class MediaState:
    faults: list[Fault] = field(default_factory=list)
    size: int | None = None
    requested: list[str] = field(default_factory=list)

    def take_fault(self) -> Fault | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        fault.times -= 1
        if fault.times == 0:
            self.faults.pop(0)
        return fault

    def reset(self) -> None:
        self.faults.clear()
        self.size = None
        self.requested.clear()


def _seed(path: str) -> int:
    return int.from_bytes(hashlib.sha256(path.encode()).digest()[:4], "big")


def default_size(path: str) -> int:
    return MIN_SIZE + _seed(path) % SPREAD


def wav(path: str, size: int) -> Iterator[bytes]:
    """A mono 16-bit WAV of exactly `size` bytes: a header, then one tone repeated."""
    data = size - 44
    yield b"RIFF" + struct.pack("<I", size - 8) + b"WAVE"
    yield b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16)
    yield b"data" + struct.pack("<I", data)
    period = 30 + _seed(path) % 50  # samples per cycle: a tone between 280 and 735 Hz
    cycle = bytes(b for i in range(period) for b in struct.pack("<h", _triangle(i, period)))
    block = cycle * (BLOCK // len(cycle))
    while data > 0:
        yield block[: min(data, len(block))]
        data -= len(block)


def _triangle(i: int, period: int) -> int:
    half = period / 2
    return int(12_000 * (1 - abs(i - half) / half * 2) if half else 0)


def png(path: str) -> bytes:
    """A 64x64 PNG of one colour picked by `path`."""
    seed = _seed(path)
    pixel = bytes([seed & 255, (seed >> 8) & 255, (seed >> 16) & 255])
    raw = b"".join(b"\x00" + pixel * 64 for _ in range(64))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def content(path: str, size: int | None) -> tuple[str, int, Iterator[bytes]]:
    """The media type, length and bytes of the file at `path`."""
    if path.startswith("coverimage/"):
        image = png(path)
        return "image/png", len(image), iter([image])
    length = size or default_size(path)
    return "audio/wav", length, wav(path, length)


def sha256(path: str, size: int | None = None) -> str:
    """What a faithful copy of the file at `path` hashes to."""
    digest = hashlib.sha256()
    for part in content(path, size)[2]:
        digest.update(part)
    return digest.hexdigest()


router = APIRouter()


def _state(request: Request) -> MediaState:
    state: MediaState = request.app.state.media
    return state


@router.get("/media/{path:path}")
async def serve_file(path: str, request: Request) -> Response:
    state = _state(request)
    state.requested.append(path)
    fault = state.take_fault()
    if fault is not None and fault.mode == "fail":
        return Response("storage busy", status_code=503, media_type="text/plain")
    media_type, length, parts = content(path, state.size)
    return StreamingResponse(
        _body(parts, length, fault.mode if fault else None),
        media_type=media_type,
        headers={"content-length": str(length)},
    )


async def _body(parts: Iterator[bytes], length: int, fault: str | None) -> AsyncIterator[bytes]:
    sent = 0
    for part in parts:
        if fault is not None and sent + len(part) >= length // 2:
            yield part[: length // 2 - sent]
            if fault == "stall":
                await asyncio.sleep(3600)
            raise ConnectionAbortedError("media: cut short on purpose")
        sent += len(part)
        yield part
        await asyncio.sleep(0)


@router.post("/_sim/media/faults")
async def add_fault(fault: Fault, request: Request) -> dict[str, int]:
    _state(request).faults.append(fault)
    return {"queued": len(_state(request).faults)}


@router.post("/_sim/media/size")
async def set_size(size: Size, request: Request) -> dict[str, int | None]:
    _state(request).size = size.size
    return {"size": size.size}


@router.get("/_sim/media")
async def requested(request: Request) -> dict[str, list[str]]:
    return {"requested": _state(request).requested}


def create_media_app() -> FastAPI:
    """The media server alone (tests serve it next to the in-process service)."""
    app = FastAPI(title="simulated media")
    app.state.media = MediaState()
    app.include_router(router)
    return app
