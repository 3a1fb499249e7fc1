"""The archive on the local filesystem: atomic writes (temp file, fsync, rename), ranged reads.

A copy is written under `<root>/.partial/` and renamed into place only once complete and
flushed to disk, so a crash at any moment leaves either no file or the whole file at its
name; leftovers in `.partial/` are removed at startup once they are clearly abandoned.
"""

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from app.log import get_logger

log = get_logger("fishhook.archive")

READ_CHUNK = 256 * 1024
PARTIAL = ".partial"


class FileStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = root.as_uri()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()) or PARTIAL in path.parts:
            raise ValueError(f"archive key {key!r} leaves the archive")
        return path

    async def start(self, abandoned_after: float) -> None:
        """Create the directories and remove partial copies nobody has written to lately
        (another process may be writing one right now: its file's mtime is fresh)."""
        await asyncio.to_thread(self._start, abandoned_after)

    def _start(self, abandoned_after: float) -> None:
        partial = self.root / PARTIAL
        partial.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - abandoned_after
        for leftover in partial.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
                    log.info("archive_partial_removed", file=leftover.name)

    async def put(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> None:
        final = self._path(key)
        temp = self.root / PARTIAL / f"{uuid.uuid4().hex}.part"
        handle = await asyncio.to_thread(_open_for_write, temp)
        try:
            async for chunk in chunks:
                await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(_commit, handle, temp, final)
        except BaseException:
            await asyncio.to_thread(_discard, handle, temp)
            raise

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes [start, end) of the stored file."""
        handle = await asyncio.to_thread(self._path(key).open, "rb")
        try:
            await asyncio.to_thread(handle.seek, start)
            left = end - start
            while left > 0:
                chunk = await asyncio.to_thread(handle.read, min(READ_CHUNK, left))
                if not chunk:
                    raise OSError(f"archived file {key} is shorter than recorded")
                left -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, self._path(key))

    def _delete(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty: the task's other files remain
            path.parent.rmdir()

    async def close(self) -> None:
        return None


def _open_for_write(temp: Path) -> BinaryIO:
    temp.parent.mkdir(parents=True, exist_ok=True)
    return temp.open("xb")


def _commit(handle: BinaryIO, temp: Path, final: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temp, final)
    # The rename itself is durable only once the directory is.
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _discard(handle: BinaryIO, temp: Path) -> None:
    handle.close()
    temp.unlink(missing_ok=True)
