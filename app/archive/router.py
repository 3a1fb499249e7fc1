"""GET /v1/tasks/{id}/audio: the archived copy of a task's generated file, with Range."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.archive import ranges, service
from app.archive.worker import Archiver
from app.deps import ApiKeyDep, ReaderDep, RuntimeDep
from app.errors import AppError, Conflict, NotFound
from app.runtime import Runtime
from app.vocabulary import ArchiveStatus

# audio/mpeg, audio/wav, image/png...: whatever type the file was served with.
_BINARY = {"schema": {"type": "string", "format": "binary"}}

router = APIRouter(prefix="/v1", tags=["archive"], dependencies=[ApiKeyDep])


@router.get(
    "/tasks/{task_id}/audio",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"*/*": _BINARY}, "description": "the whole file, as AceData typed it"},
        206: {"content": {"*/*": _BINARY}, "description": "the byte range asked for"},
        404: {"description": "no such task, it has no generated file, or the archive is off"},
        409: {"description": "not_archived_yet, or archive_failed"},
    },
)
async def read_audio(
    task_id: str,
    session: ReaderDep,
    runtime: RuntimeDep,
    file: Annotated[str | None, Query(description="audio (default), sample_1, cover, ...")] = None,
    range_: Annotated[str | None, Header(alias="range")] = None,
    if_range: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The file as fishhook archived it: `Content-Type`, `Content-Length`, `ETag` (its
    SHA-256) and `Range` (206) for players that seek."""
    return await send_file(session, runtime, task_id, file, range_, if_range, if_none_match)


async def send_file(
    session: AsyncSession,
    runtime: Runtime,
    task_ref: str,
    file: str | None,
    range_: str | None,
    if_range: str | None,
    if_none_match: str | None,
) -> Response:
    """One archived file as an answer (shared by the API and the inspector's player)."""
    task = await runtime.reads.task(task_ref)
    if runtime.archiver is None:
        raise NotFound(
            "this service keeps no files (FISHHOOK_ARCHIVE_URL=none)", code="archive_off"
        )
    found = await service.file_of(session, task.id, file)
    if found is None:
        what = f"file named {file!r}" if file else "generated file"
        raise NotFound(f"task {task.id} has no {what} to archive", code="no_archived_file")
    archiver: Archiver | None = runtime.archiver
    if found.status == ArchiveStatus.FAILED:
        raise Conflict(
            f"archiving failed: {found.last_error}", code="archive_failed", file=found.name
        )
    if found.status != ArchiveStatus.STORED or found.storage_key is None or archiver is None:
        raise Conflict(
            "the file is not archived yet; try again shortly",
            code="not_archived_yet",
            headers={"Retry-After": "5"},
        )
    size, key = found.size or 0, found.storage_key
    etag = f'"{found.sha256}"'
    headers = {"ETag": etag, "Accept-Ranges": "bytes", "Cache-Control": "private, max-age=86400"}
    if if_none_match is not None and etag in (t.strip() for t in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    try:
        span = ranges.requested(range_ if if_range in (None, etag) else None, size)
    except ranges.Unsatisfiable:
        raise AppError(
            f"the range is outside the file's {size} bytes",
            status=416,
            code="range_not_satisfiable",
            headers={"Content-Range": f"bytes */{size}"},
        ) from None
    media_type = found.content_type or "application/octet-stream"
    if span is None:
        body = archiver.storage.read(key, 0, size)
        return _stream(body, 200, {**headers, "Content-Length": str(size)}, media_type)
    headers |= {"Content-Length": str(span.length), "Content-Range": span.content_range(size)}
    return _stream(archiver.storage.read(key, span.start, span.end), 206, headers, media_type)


def _stream(
    body: AsyncIterator[bytes], status: int, headers: dict[str, str], media_type: str
) -> StreamingResponse:
    return StreamingResponse(body, status_code=status, headers=headers, media_type=media_type)
