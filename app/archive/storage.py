"""Where archived files live: the local filesystem (app/archive/files.py) or any
S3-compatible store through obstore (Rust's object_store: one small wheel, no botocore,
multipart uploads streamed from an async iterator, ranged reads).

`open_storage(settings)` picks one from FISHHOOK_ARCHIVE_URL.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlsplit

import obstore
from obstore.store import S3Store

from app.archive.files import FileStorage
from app.config import Settings

if TYPE_CHECKING:
    from obstore.store import S3Config

# Multipart parts buffered per upload: memory stays near PART_SIZE * PARTS_IN_FLIGHT
# whatever the file's size.
PART_SIZE = 5 * 1024 * 1024
PARTS_IN_FLIGHT = 2
# Served files are read in ranges this large, one short request each.
READ_RANGE = 4 * 1024 * 1024


class Storage(Protocol):
    description: str  # for logs: the URL without credentials

    async def start(self, abandoned_after: float) -> None: ...

    async def put(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> None:
        """Store the whole stream at `key`, or nothing if the stream fails."""
        ...

    def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes [start, end) of the stored file."""
        ...

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...


class S3Storage:
    def __init__(self, store: S3Store, description: str) -> None:
        self._store = store
        self.description = description

    async def start(self, abandoned_after: float) -> None:
        return None

    async def put(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> None:
        # A multipart upload is completed only after the last chunk: a stream that fails
        # leaves no object behind (object_store aborts the upload).
        await obstore.put_async(
            self._store,
            key,
            chunks,
            attributes={"Content-Type": content_type},
            chunk_size=PART_SIZE,
            max_concurrency=PARTS_IN_FLIGHT,
        )

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        offset = start
        while offset < end:
            stop = min(end, offset + READ_RANGE)
            chunk = await obstore.get_range_async(self._store, key, start=offset, end=stop)
            offset = stop
            yield bytes(chunk)

    async def delete(self, key: str) -> None:
        await obstore.delete_async(self._store, key)

    async def close(self) -> None:
        return None


def open_storage(settings: Settings) -> Storage | None:
    """The archive's storage, or None when FISHHOOK_ARCHIVE_URL=none."""
    target = settings.archive_target
    if target is None:
        return None
    parts = urlsplit(target)
    if parts.scheme == "file":
        return FileStorage(Path(unquote(parts.path)))
    if parts.scheme == "s3" and parts.netloc:
        endpoint = settings.archive_s3_endpoint_url
        # Credentials and region come from the standard AWS_* variables.
        config: S3Config = {"endpoint": endpoint} if endpoint else {}
        store = S3Store(
            parts.netloc,
            prefix=parts.path.strip("/") or None,
            config=config,
            client_options={"timeout": "120s", "allow_http": bool(endpoint)},
        )
        return S3Storage(store, f"s3://{parts.netloc}{parts.path}")
    raise ValueError("FISHHOOK_ARCHIVE_URL must be file:///path, s3://bucket/prefix or none")
