"""One reconciliation sweep: expire, settle orphaned pending tasks, look up and apply results.

Tasks are claimed in the database (FOR UPDATE SKIP LOCKED, then a lease on next_check_at),
so any number of processes sweep at once and each task is looked up by one of them. A
finished record's `response` is applied through callbacks.service.ingest, exactly as if
AceData's callback had arrived (recorded as a delivery with source "reconcile").
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.acedata.client import AceDataClient
from app.acedata.errors import UpstreamError
from app.acedata.schemas import finished_response
from app.callbacks.service import Inbound, ingest
from app.config import Settings
from app.log import get_logger
from app.metrics import families
from app.reconcile.pacer import Pace, Pacer

log = get_logger("fishhook.reconcile")

# A claimed task is not claimed again for this long, even if its process dies mid-lookup.
LEASE_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 600.0
MAX_BATCHES_PER_SWEEP = 20

_EXPIRE = text(
    """
UPDATE tasks SET status = 'expired', error = :error, finished_at = now(), updated_at = now()
WHERE status = 'submitted' AND created_at < now() - make_interval(secs => :timeout)
"""
).bindparams(bindparam("error", type_=JSONB))

# A task still pending this long after its submit began has no AceData id and never will:
# the process crashed before storing AceData's answer, or the answer was lost.
_SETTLE_PENDING = text(
    """
UPDATE tasks SET status = 'expired', error = coalesce(error, :error),
    finished_at = now(), updated_at = now()
WHERE status = 'pending' AND created_at < now() - make_interval(secs => :after)
"""
).bindparams(bindparam("error", type_=JSONB))

_CLAIM = text(
    """
UPDATE tasks SET next_check_at = now() + make_interval(secs => :lease), checks = checks + 1
WHERE id IN (
    SELECT id FROM tasks
    WHERE status = 'submitted' AND task_id IS NOT NULL AND next_check_at <= now()
    ORDER BY next_check_at
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
RETURNING id, task_id
"""
)

# Still running at AceData: ask again later, twice as late each time.
_BACK_OFF = text(
    """
UPDATE tasks SET next_check_at = now()
    + make_interval(secs => least(:base * power(2, checks - 1), :cap))
WHERE id = ANY(:ids) AND status = 'submitted'
"""
)

TIMEOUT_ERROR = {
    "code": "timeout",
    "message": "no result from AceData within FISHHOOK_TASK_TIMEOUT; a later result still applies",
}
INTERRUPTED_ERROR = {
    "code": "upstream_outcome_unknown",
    "message": "AceData's answer to the submit was never stored, so fishhook cannot look the "
    "job up; a callback that still arrives is applied",
}


@dataclass
class Sweep:
    expired: int = 0
    settled: int = 0
    looked_up: int = 0
    applied: int = 0


class Reconciler:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        acedata: AceDataClient,
        settings: Settings,
        pacer: Pace | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._acedata = acedata
        self._settings = settings
        self._pacer = pacer or Pacer()

    @property
    def pending_after(self) -> float:
        """Long enough for a live submit to have finished its retries and its last read."""
        s = self._settings
        budget = s.upstream_retry_budget + s.acedata_connect_timeout + s.acedata_read_timeout
        return s.reconcile_after + budget

    async def sweep(self) -> Sweep:
        result = Sweep()
        async with self._sessionmaker() as session:
            result.expired = await _update(
                session, _EXPIRE, error=TIMEOUT_ERROR, timeout=self._settings.task_timeout
            )
            result.settled = await _update(
                session, _SETTLE_PENDING, error=INTERRUPTED_ERROR, after=self.pending_after
            )
        if result.expired or result.settled:
            log.warning("reconcile_gave_up", expired=result.expired, pending=result.settled)
        if not self._acedata.configured:
            return result
        for _ in range(MAX_BATCHES_PER_SWEEP):
            claimed = await self._claim()
            if not claimed:
                break
            result.looked_up += len(claimed)
            result.applied += await self._look_up(claimed)
            if len(claimed) < self._settings.reconcile_batch:
                break
        return result

    async def _claim(self) -> dict[str, str]:
        """AceData id -> fishhook id, for up to one batch of tasks due for a lookup."""
        async with self._sessionmaker() as session:
            rows = (
                await session.execute(
                    _CLAIM, {"lease": LEASE_SECONDS, "limit": self._settings.reconcile_batch}
                )
            ).all()
            await session.commit()
        return {row.task_id: row.id for row in rows}

    async def _look_up(self, claimed: dict[str, str]) -> int:
        await self._pacer.wait()
        try:
            records = await self._acedata.retrieve_batch(list(claimed))
        except UpstreamError as error:
            # The lease runs out and the tasks are claimed again later.
            log.warning("reconcile_lookup_failed", code=error.info.code, tasks=len(claimed))
            families.reconcile_lookups.labels("failed").inc(len(claimed))
            return 0
        applied = 0
        finished: set[str] = set()
        async with self._sessionmaker() as session:
            for record in records:
                response = finished_response(record)
                ref = claimed.get(str(record.get("id")))
                if response is None or ref is None:
                    continue
                finished.add(ref)
                receipt = await ingest(
                    session, _inbound(str(record["id"]), response), task_ref=ref, authenticated=True
                )
                applied += receipt.outcome == "applied"
                log.info("reconcile_applied", task=ref, outcome=receipt.outcome)
            running = [ref for ref in claimed.values() if ref not in finished]
            families.reconcile_lookups.labels("finished").inc(len(finished))
            families.reconcile_lookups.labels("running").inc(len(running))
            if running:
                base = max(self._settings.reconcile_after, 1.0)
                params = {"ids": running, "base": base, "cap": MAX_BACKOFF_SECONDS}
                await session.execute(_BACK_OFF, params)
                await session.commit()
        return applied


async def _update(session: AsyncSession, statement: Any, **params: Any) -> int:
    result = await session.execute(statement, params)
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def _inbound(task_id: str, response: dict[str, Any]) -> Inbound:
    # A response is the callback body; a missing task_id is the record's own id.
    body = response if "task_id" in response else {**response, "task_id": task_id}
    return Inbound.of_answer("reconcile", body)
