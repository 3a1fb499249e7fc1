"""The relay loop of one process: claim due messages, send each attempt, record it."""

import asyncio
import contextlib
import json
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import backoff, tracing
from app.archive.schemas import summary
from app.config import Settings
from app.errors import is_outage
from app.fish.records import relay_body
from app.log import get_logger
from app.metrics import families
from app.relay import sender, service
from app.relay.models import RelayAttempt
from app.tasks.schemas import TaskOut

log = get_logger("fishhook.relay")

# A claim outlives the longest attempt by this much before another process may retry it.
LEASE_MARGIN = 30.0
# A message's state after an attempt, as fishhook_relay_attempts_total's result label.
_RESULTS = {"delivered": "delivered", "dead": "dead", "pending": "retry"}
# Pauses before recording an attempt again when the database is briefly unavailable.
RECORD_RETRIES = (0.5, 1.0, 2.0, 4.0)
# Sweeps in a row while the batch comes back full (a backlog), before yielding to the timer.
MAX_ROUNDS = 10


class Relay:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        key: bytes,
        settings: Settings,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._http = http
        self._key = key
        self._settings = settings
        self._lease = settings.relay_timeout + LEASE_MARGIN
        self._woken = asyncio.Event()

    def wake(self) -> None:
        """A relay message was written somewhere: sweep now, not at the next interval."""
        self._woken.set()

    async def run_once(self) -> None:
        """One turn of the relay loop: sweep, then wait for a wake-up or the interval."""
        try:
            await self.sweep()
        except Exception:
            log.exception("relay_sweep_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), self._settings.relay_interval)
        self._woken.clear()

    async def sweep(self) -> int:
        """Send every due message (in batches); the number of attempts made."""
        total = 0
        for _ in range(MAX_ROUNDS):
            async with self._sessionmaker() as session:
                claimed = await service.claim_due(
                    session, limit=self._settings.relay_batch, lease=self._lease
                )
            results = await asyncio.gather(
                *(self.attempt(c) for c in claimed), return_exceptions=True
            )
            for claimed_message, result in zip(claimed, results, strict=True):
                if isinstance(result, Exception):
                    await self._record_crash(claimed_message, result)
            total += len(claimed)
            if len(claimed) < self._settings.relay_batch:
                break
        return total

    async def resend(self, message_id: str) -> RelayAttempt | None:
        """One attempt now, outside the schedule; None while another attempt is in flight."""
        async with self._sessionmaker() as session:
            claimed = await service.claim_one(session, message_id, lease=self._lease)
        return None if claimed is None else await self.attempt(claimed)

    async def attempt(self, claimed: service.Claimed) -> RelayAttempt:
        settings = self._settings
        body = _body(claimed, settings.public_url)
        started_at = datetime.now(UTC)
        attributes = {
            "fishhook.task": claimed.task.get("id"),
            "fishhook.task_id": claimed.task.get("task_id"),
            "fishhook.relay.message": claimed.id,
            "fishhook.relay.attempt": claimed.number,
        }
        with tracing.span("fishhook.relay_attempt", **attributes) as span:
            if body is None:
                # Recorded as one unsent attempt, and the message dead: nothing would be sent.
                answer = sender.Answer(latency_ms=0, error=NOT_SENT)
                policy = service.Policy(max_age=0, delay=0)
            else:
                answer = await sender.send(
                    self._http,
                    claimed.url,
                    key=self._key,
                    message_id=claimed.id,
                    body=body,
                    seconds=settings.relay_timeout,
                    allow_private=settings.relay_allow_private,
                )
                policy = self._policy(claimed, answer)
            recorded = await self._record(claimed, answer, policy, started_at)
            result = _RESULTS.get(service.next_state(claimed, answer, policy)["status"], "retry")
            span.set_attribute("fishhook.relay.result", result)
            if answer.status_code is not None:
                span.set_attribute("http.response.status_code", answer.status_code)
        families.relay_attempts.labels(result).inc()
        log.info(
            "relay_attempt",
            message_id=claimed.id,
            task=claimed.task.get("id"),
            number=claimed.number,
            status=answer.status_code,
            latency_ms=answer.latency_ms,
            error=answer.error,
        )
        return recorded

    async def _record(
        self,
        claimed: service.Claimed,
        answer: sender.Answer,
        policy: service.Policy,
        started_at: datetime,
    ) -> RelayAttempt:
        """Record the attempt, retrying a moment of database trouble (a drained pool, say):
        the webhook has gone out, and an attempt left unrecorded is sent again."""
        for delay in (*RECORD_RETRIES, None):
            try:
                async with self._sessionmaker() as session:
                    return await service.record(session, claimed, answer, policy, started_at)
            except Exception as exc:
                if delay is None or not is_outage(exc):
                    raise
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _policy(self, claimed: service.Claimed, answer: sender.Answer) -> service.Policy:
        settings = self._settings
        return service.Policy(
            max_age=settings.relay_max_age,
            delay=backoff.delay(
                claimed.number,
                base=settings.relay_backoff_base,
                cap=settings.relay_backoff_max,
                asked=answer.retry_after,
            ),
        )

    async def _record_crash(self, claimed: service.Claimed, error: Exception) -> None:
        """Record a crashed attempt as failed, so the retry schedule and max age apply to it:
        left unrecorded, the message would be claimed again every lease, forever."""
        # The type only: an exception's text may quote the body, the URL or a secret.
        reason = type(error).__name__
        log.error("relay_attempt_crashed", message_id=claimed.id, error=reason)
        answer = sender.Answer(latency_ms=0, error=f"attempt crashed: {reason}")
        try:
            async with self._sessionmaker() as session:
                await service.record(
                    session, claimed, answer, self._policy(claimed, answer), datetime.now(UTC)
                )
        except Exception as exc:
            # The database is down, say: the lease runs out and a later sweep tries again.
            log.error("relay_crash_not_recorded", message_id=claimed.id, error=type(exc).__name__)


NOT_SENT = (
    "not sent: AceData never accepted this /fish job, so it would call back nothing "
    "(the client had the refusal in its submit's answer)"
)


def _body(claimed: service.Claimed, public_url: str) -> bytes | None:
    """The body for the task as it finished: the Task JSON, or for a task a drop-in client
    submitted on /fish/*, the body AceData sent (app/fish/records.py)."""
    if claimed.task.get("fish_api"):
        shaped = relay_body(claimed.task)
        return None if shaped is None else json.dumps(shaped).encode()
    task = TaskOut.model_validate(claimed.task)
    # AceData's audio_url stays in `output`; fishhook's own copy is added beside it.
    task.archive = summary(claimed.archive, task_id=task.id, base=public_url)
    # The deliveries count is a read-time figure, not the task's state.
    return task.model_dump_json(exclude={"deliveries"}).encode()


def relay_client(settings: Settings) -> httpx.AsyncClient:
    """The client for receivers: short timeouts, redirects never followed."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.relay_timeout, connect=min(5.0, settings.relay_timeout)),
        follow_redirects=False,
        # No keep-alive: connections are pinned to a checked address with the hostname in
        # SNI, and a pooled connection must never carry a request for another hostname.
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=0),
    )
