"""The archive loop of one process: claim due copies, download each into storage, record it.

Never on a request path: the trigger queues files, this loop copies them. A copy is
retried with exponential backoff (and jitter) up to FISHHOOK_ARCHIVE_MAX_ATTEMPTS times,
then marked `failed` with the reason; a file too large or at a refused address fails at once.
"""

import asyncio
import contextlib
from dataclasses import dataclass

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import backoff
from app.archive import download, service
from app.archive.models import ArchiveFile
from app.archive.storage import Storage
from app.config import Settings
from app.log import get_logger
from app.metrics import families, snapshot
from app.vocabulary import ArchiveStatus

log = get_logger("fishhook.archive")

# A claim outlives the longest copy by this much before another process may redo it.
LEASE_MARGIN = 5.0
MAX_ROUNDS = 10
BACKOFF_CAP = 3600.0


@dataclass(slots=True)
class Counters:
    """This process's archive figures since it started (for /metrics)."""

    archived: int = 0
    failed: int = 0  # copies given up on
    retried: int = 0  # attempts that failed and will be tried again
    bytes: int = 0


class Archiver:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        storage: Storage,
        settings: Settings,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._http = http
        self.storage = storage
        self._settings = settings
        self._lease = settings.archive_timeout + LEASE_MARGIN
        self.counters = Counters()

    async def run_once(self) -> None:
        """One turn of the loop: sweep, then wait for the interval."""
        try:
            await self.sweep()
        except Exception:
            log.exception("archive_sweep_failed")
        await asyncio.sleep(self._settings.archive_interval)

    async def sweep(self) -> int:
        """Copy every due file (in batches); the number of attempts made."""
        total, batch = 0, self._settings.archive_concurrency
        for _ in range(MAX_ROUNDS):
            async with self._sessionmaker() as session:
                claimed = await service.claim_due(session, limit=batch, lease=self._lease)
            await asyncio.gather(*(self.copy(c) for c in claimed))
            total += len(claimed)
            if len(claimed) < batch:
                break
        return total

    async def copy(self, claimed: service.Claimed) -> None:
        settings = self._settings
        url = download.source(claimed.source_url, settings.archive_media_base_url)
        key = f"{claimed.task_ref}/{claimed.name}{download.suffix(url)}"
        body: download.Body | None = None
        try:
            async with asyncio.timeout(settings.archive_timeout):
                async with download.fetch(
                    self._http,
                    url,
                    allow_private=settings.relay_allow_private,
                    max_bytes=settings.archive_max_bytes,
                ) as body:
                    await self.storage.put(key, body.chunks(), body.content_type)
        except TimeoutError:
            await self._failed(claimed, f"timeout: not copied within {settings.archive_timeout} s")
            return
        except download.DownloadError as exc:
            await self._failed(claimed, exc.reason, permanent=exc.permanent)
            return
        except Exception as exc:
            if body is not None and body.error is not None:  # wrapped by the storage client
                await self._failed(claimed, body.error.reason, permanent=body.error.permanent)
                return
            # Storage refused the write (S3 down, disk full): the type and message only.
            await self._failed(claimed, f"storage: {type(exc).__name__}: {exc}"[:500])
            return
        assert body is not None
        copied = service.Copied(key, body.size, body.sha256, body.content_type)
        async with self._sessionmaker() as session:
            await service.record_stored(session, claimed, copied)
        self.counters.archived += 1
        self.counters.bytes += body.size
        families.archive_files.labels("stored").inc()
        families.archive_bytes.inc(body.size)
        log.info(
            "archive_stored",
            file=claimed.id,
            task=claimed.task_ref,
            name=claimed.name,
            size=body.size,
            sha256=body.sha256,
        )

    async def _failed(self, claimed: service.Claimed, reason: str, permanent: bool = False) -> None:
        settings = self._settings
        give_up = permanent or claimed.number >= settings.archive_max_attempts
        retry_in = None if give_up else self._delay(claimed.number)
        if give_up:
            reason = f"{reason}; gave up after {claimed.number} attempts"
        try:
            async with self._sessionmaker() as session:
                await service.record_failure(session, claimed, reason, retry_in=retry_in)
        except Exception as exc:
            # The database is down, say: the lease runs out and a later sweep tries again.
            log.error("archive_failure_not_recorded", file=claimed.id, error=type(exc).__name__)
            return
        if give_up:
            self.counters.failed += 1
            families.archive_files.labels("failed").inc()
        else:
            self.counters.retried += 1
            families.archive_files.labels("retry").inc()
        log.warning(
            "archive_attempt_failed",
            file=claimed.id,
            task=claimed.task_ref,
            number=claimed.number,
            retry_in=retry_in,
            error=reason,
        )

    def _delay(self, number: int) -> float:
        """base * 2^(n-1), between half and all of it, at most an hour."""
        return backoff.delay(number, base=self._settings.archive_backoff_base, cap=BACKOFF_CAP)

    async def prune(self) -> int:
        """Delete the files of deleted tasks (FISHHOOK_ARCHIVE_DELETE_WITH_TASK)."""
        if not self._settings.archive_delete_with_task:
            return 0  # the default: a file outlives its task
        async with self._sessionmaker() as session:
            gone = await service.claim_orphans(session, limit=100, lease=self._lease)
        for file_id, key in gone:
            if key is not None:
                with contextlib.suppress(FileNotFoundError):
                    await self.storage.delete(key)
            async with self._sessionmaker() as session:
                await service.forget(session, file_id)
        if gone:
            log.info("archive_pruned", files=len(gone))
        return len(gone)

    async def backlog(self) -> int:
        async with self._sessionmaker() as session:
            return await service.backlog(session)

    async def figures(self) -> dict[str, int]:
        """What /metrics should show: fishhook_archive_files_total{result="stored"|"failed"}
        and fishhook_archive_bytes_total (this process), fishhook_archive_backlog (all)."""
        return {
            "archived": self.counters.archived,
            "failed": self.counters.failed,
            "retried": self.counters.retried,
            "bytes": self.counters.bytes,
            "backlog": await self.backlog(),
        }


@snapshot.probe
async def _publish_backlog(session: AsyncSession) -> None:
    pending = await session.scalar(
        select(func.count())
        .select_from(ArchiveFile)
        .where(ArchiveFile.status == ArchiveStatus.PENDING)
    )
    families.archive_backlog.set(int(pending or 0))


def archive_client(settings: Settings) -> httpx.AsyncClient:
    """The client for AceData's file URLs: redirects followed by hand (each hop checked)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(60.0, connect=10.0),
        follow_redirects=False,
        # Connections are pinned to a checked address (see url_safety.pinned): no keep-alive.
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=0),
    )
