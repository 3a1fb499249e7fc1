"""What the inspector's pages read: counts, lists with filters and search, one delivery,
one task with its deliveries and relay attempts. Read-only; lists load only the columns
they print (never a whole body)."""

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    func,
    literal_column,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.callbacks.models import Delivery
from app.ids import first_id_at
from app.inspector.models import DeliveryText, SearchBacklog
from app.pagination import NUL, decode_cursor, encode_cursor
from app.tasks.models import Task
from app.vocabulary import Outcome, TaskKind, TaskStatus

STATUSES = tuple(status.value for status in TaskStatus)
KINDS = tuple(kind.value for kind in TaskKind)
OUTCOMES = tuple(outcome.value for outcome in Outcome)
SOURCES = ("callback", "replay", "reconcile", "submit")
PAGE = 50
EXCERPT_BYTES = 160
LABEL_CHARS = 90
# How many of the newest deliveries a search reads first, in turn (see deliveries()).
DENSE_WINDOWS = (2_000, 20_000)
# Ids and AceData's UUIDs are matched exactly, through indexes: a trigram search for them
# would read long lists (every hex trigram is everywhere) for what an equality finds.
EXACT = re.compile(
    r"(?:dlv|tsk|msg)_[0-9A-Za-z]{26}|[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
)
MIN_SEARCH = 3  # shorter words have no trigram to look up: only exact ids are matched
# A body as text, as the search index holds it (app/inspector/models.py).
BODY_TEXT = func.encode(Delivery.body, literal_column("'escape'"))


@dataclass(frozen=True, slots=True)
class Filters:
    status: str = ""  # tasks: a status; deliveries: an outcome
    kind: str = ""  # tasks: voice|speech; deliveries: a source
    q: str = ""
    since: datetime | None = None
    until: datetime | None = None
    cursor: str = ""

    @property
    def active(self) -> bool:
        return bool(self.status or self.kind or self.q or self.since or self.until)


@dataclass(frozen=True, slots=True)
class Counts:
    tasks: dict[str, int]
    deliveries: dict[str, int]
    relay_pending: int


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Any]
    next_cursor: str | None


async def counts(session: AsyncSession) -> Counts:
    """The last 24 hours, through indexes (task ids sort by creation time)."""
    since = time.time() - 86_400
    found = await session.execute(
        text(
            "SELECT 't', status, count(*) FROM tasks WHERE id >= :first GROUP BY status "
            "UNION ALL SELECT 'd', outcome, count(*) FROM deliveries "
            "WHERE received_at >= to_timestamp(:since) GROUP BY outcome "
            "UNION ALL SELECT 'r', 'pending', count(*) FROM relay_messages "
            "WHERE status = 'pending'"
        ),
        {"first": first_id_at("tsk", since), "since": since},
    )
    tasks, deliveries, pending = dict.fromkeys(STATUSES, 0), dict.fromkeys(OUTCOMES, 0), 0
    for table, label, value in found:
        if table == "t":
            tasks[label] = value
        elif table == "d":
            deliveries[label] = value
        else:
            pending = value
    return Counts(tasks, deliveries, pending)


def _task_columns() -> Select[Any]:
    label = func.left(func.coalesce(Task.input["title"].astext, Task.input["text"].astext), 90)
    return select(
        Task.id,
        Task.kind,
        Task.status,
        label.label("label"),
        Task.task_id,
        Task.created_at,
        Task.finished_at,
        Task.error["code"].astext.label("error_code"),
    )


def _delivery_columns() -> Select[Any]:
    excerpt = func.substring(Delivery.body, 1, EXCERPT_BYTES).label("excerpt")
    columns: list[Any] = [
        Delivery.id,
        Delivery.received_at,
        Delivery.source,
        Delivery.method,
        Delivery.remote_addr,
        Delivery.outcome,
        Delivery.detail,
        Delivery.task_ref,
        Delivery.task_id,
        Delivery.body_size,
        excerpt,
    ]
    return select(*columns)


async def _page(session: AsyncSession, query: Select[Any], id_column: Any, f: Filters) -> Page:
    query = query.order_by(id_column.desc()).limit(PAGE + 1)
    if f.cursor:
        query = query.where(id_column < decode_cursor(f.cursor))
    rows = list(await session.execute(query))
    if len(rows) <= PAGE:
        return Page(rows, None)
    return Page(rows[:PAGE], encode_cursor(rows[PAGE - 1].id))


async def tasks(session: AsyncSession, f: Filters) -> Page:
    query = _task_columns()
    if f.status:
        query = query.where(Task.status == f.status)
    if f.kind:
        query = query.where(Task.kind == f.kind)
    if f.since:
        query = query.where(Task.id >= first_id_at("tsk", f.since.timestamp()))
    if f.until:
        query = query.where(Task.id < first_id_at("tsk", f.until.timestamp()))
    if f.q:
        q = f.q
        found: list[ColumnElement[bool]] = [Task.id == q, Task.task_id == q, Task.trace_id == q]
        if len(q) >= MIN_SEARCH:
            pattern = f"%{_like_escape(q)}%"
            found.append(Task.input["title"].astext.ilike(pattern, escape="\\"))
            found.append(Task.input["text"].astext.ilike(pattern, escape="\\"))
        query = query.where(or_(*found))
    return await _page(session, query, Task.id, f)


async def deliveries(session: AsyncSession, f: Filters, task_ref: str | None = None) -> Page:
    """Newest first. A search in bodies goes in two steps, so that neither a word in every
    body nor a rare one reads much: first the newest deliveries (DENSE_WINDOWS; enough when
    the word is common), then, if they held less than a page, the search index alone."""
    query = _delivery_columns()
    if task_ref:
        query = query.where(Delivery.task_ref == task_ref)
    if f.status:
        query = query.where(Delivery.outcome == f.status)
    if f.kind:
        query = query.where(Delivery.source == f.kind)
    if f.since:
        query = query.where(Delivery.received_at >= f.since)
    if f.until:
        query = query.where(Delivery.received_at < f.until)
    if not f.q:
        return await _page(session, query, Delivery.id, f)
    cursor = decode_cursor(f.cursor) if f.cursor else None
    match = search(f.q)
    for size in DENSE_WINDOWS:
        window = query.with_only_columns(Delivery.id).order_by(Delivery.id.desc()).limit(size)
        if cursor:
            window = window.where(Delivery.id < cursor)
        # As a lower bound on the id, not `IN (window)`: the planner merged that with a
        # backward walk of the whole primary key (340 ms at 1M rows, for an exact id).
        oldest = select(func.min(window.subquery().c.id)).scalar_subquery()
        recent = await _page(session, query.where(Delivery.id >= oldest, match), Delivery.id, f)
        if len(recent.rows) == PAGE and recent.next_cursor:
            return recent
    # The ids each index finds, joined: one OR over them all would read the whole table.
    # Sorting on an expression keeps the planner off the backward walk of the primary key,
    # which it picks whenever it overestimates a word's frequency (pg_trgm has no
    # statistics), and which reads the whole table for a rare word.
    rows = list(
        await session.execute(
            query.where(Delivery.id.in_(matching_ids(f.q)))
            .where(*([Delivery.id < cursor] if cursor else []))
            .order_by(Delivery.id.concat("").desc())
            .limit(PAGE + 1)
        )
    )
    if len(rows) <= PAGE:
        return Page(rows, None)
    return Page(rows[:PAGE], encode_cursor(rows[PAGE - 1].id))


def _body_patterns(q: str) -> list[str]:
    """LIKE patterns for a word in a body, as typed and as JSON writes it ("café" is often
    sent as "caf\\u00e9"); none for a word too short to index or an exact id."""
    if len(q) < MIN_SEARCH or EXACT.fullmatch(q):
        return []
    forms = dict.fromkeys((q, json.dumps(q)[1:-1]))
    return [f"%{_like_escape(body_escape(form))}%" for form in forms]


def search(q: str) -> ColumnElement[bool]:
    """A delivery by its id, its task's ids or trace_id, or any text in its body
    (case-insensitive), read row by row: for a bounded window of recent deliveries."""
    by_trace = select(Task.id).where(Task.trace_id == q)
    found: list[ColumnElement[bool]] = [
        Delivery.id == q,
        Delivery.task_ref == q,
        Delivery.task_id == q,
        Delivery.task_ref.in_(by_trace),
    ]
    found += [BODY_TEXT.ilike(pattern, escape="\\") for pattern in _body_patterns(q)]
    return or_(*found)


def matching_ids(q: str) -> CompoundSelect[tuple[str]]:
    """The ids of the deliveries `search` matches, each part through its own index: bodies
    through the search index, and those not indexed yet (app/inspector/indexer.py) read."""
    by_trace = select(Task.id).where(Task.trace_id == q)
    parts: list[Select[Any]] = [
        select(Delivery.id).where(Delivery.id == q),
        select(Delivery.id).where(Delivery.task_ref == q),
        select(Delivery.id).where(Delivery.task_id == q),
        select(Delivery.id).where(Delivery.task_ref.in_(by_trace)),
    ]
    for pattern in _body_patterns(q):
        parts.append(
            select(DeliveryText.id).where(DeliveryText.body_text.ilike(pattern, escape="\\"))
        )
        parts.append(
            select(SearchBacklog.id)
            .join(Delivery, Delivery.id == SearchBacklog.id)
            .where(BODY_TEXT.ilike(pattern, escape="\\"))
        )
    return union(*parts)


def body_escape(term: str) -> str:
    """`term` as PostgreSQL's encode(bytes, 'escape') writes it, so it matches the index:
    NUL and bytes >= 0x80 as \\ooo, backslashes doubled, the rest as is."""
    out = []
    for byte in term.encode():
        if byte == 0 or byte >= 0x80:
            out.append(f"\\{byte:03o}")
        elif byte == 0x5C:
            out.append("\\\\")
        else:
            out.append(chr(byte))
    return "".join(out)


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def task(session: AsyncSession, ref: str) -> Task | None:
    if NUL in ref:
        return None
    found: Task | None = await session.scalar(
        select(Task).where(or_(Task.id == ref, Task.task_id == ref))
    )
    return found


async def task_deliveries(session: AsyncSession, task_ref: str) -> list[Any]:
    query = _delivery_columns().where(Delivery.task_ref == task_ref)
    return list(await session.execute(query.order_by(Delivery.id.desc()).limit(200)))


async def delivery(session: AsyncSession, delivery_id: str) -> Delivery | None:
    return None if NUL in delivery_id else await session.get(Delivery, delivery_id)
