"""The dashboard's HTML: one self-contained page, every value escaped (bodies and inputs
are untrusted), no scripts and no external assets."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from html import escape
from urllib.parse import quote

from app.dashboard.service import DeliveryRow, Overview, TaskRow

# Sent with the page: even a value that slipped through escaping could not run a script.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse}
td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}
th{background:#f4f4f4}.num{text-align:right}code{font-size:12px}
.succeeded,.applied{color:#176c2c}.failed,.unauthenticated,.invalid{color:#b00020}
.expired,.late,.unmatched,.duplicate{color:#8a5a00}
"""


def render(view: Overview, version: str) -> str:
    c = view.counts
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            "<title>fishhook</title>",
            f"<style>{_STYLE}</style></head><body>",
            f"<h1>fishhook <small>{_e(version)}</small></h1>",
            "<h2>Last 24 hours</h2>",
            _counts("Tasks by status", c.tasks_24h),
            _counts("Deliveries by outcome", c.deliveries_24h),
            f"<p>Relay messages pending: {c.relay_pending}. "
            '<a href="/metrics">Prometheus metrics</a></p>',
            f"<h2>Newest tasks</h2>{_tasks(view.tasks)}",
            f"<h2>Newest deliveries</h2>{_deliveries(view.deliveries)}",
            "</body></html>",
        ]
    )


def _counts(title: str, counts: Mapping[str, int]) -> str:
    cells = "".join(f'<td class="{_e(k)}">{_e(k)} <b>{n}</b></td>' for k, n in counts.items())
    return f"<table><tr><th>{_e(title)}</th>{cells}</tr></table>"


def _tasks(rows: Iterable[TaskRow]) -> str:
    head = ("task", "kind", "status", "title / text", "AceData task_id", "created", "finished")
    body = [
        [
            _link("/v1/tasks/", t.id),
            _e(t.kind),
            f'<span class="{_e(t.status)}">{_e(t.status)}</span>'
            + (f" <code>{_e(t.error_code)}</code>" if t.error_code else ""),
            _e(t.label),
            f"<code>{_e(t.task_id)}</code>" if t.task_id else "",
            _time(t.created_at),
            _time(t.finished_at),
        ]
        for t in rows
    ]
    return _table(head, body)


def _deliveries(rows: Iterable[DeliveryRow]) -> str:
    head = ("delivery", "received", "outcome", "source", "task", "bytes")
    body = [
        [
            _link("/v1/deliveries/", d.id),
            _time(d.received_at),
            f'<span class="{_e(d.outcome)}">{_e(d.outcome)}</span>',
            _e(d.source),
            _link("/v1/tasks/", d.task_ref) if d.task_ref else _e(d.task_id),
            f'<span class="num">{d.body_size}</span>',
        ]
        for d in rows
    ]
    return _table(head, body)


def _table(head: Iterable[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p>None yet.</p>"
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    lines = ["".join(f"<td>{cell}</td>" for cell in row) for row in rows]
    return "<table><tr>" + header + "</tr>" + "".join(f"<tr>{r}</tr>" for r in lines) + "</table>"


def _link(base: str, ref: str) -> str:
    return f'<a href="{_e(base + quote(ref, safe=""))}"><code>{_e(ref)}</code></a>'


def _time(when: datetime | None) -> str:
    return _e(when.strftime("%Y-%m-%d %H:%M:%S %Z")) if when else ""


def _e(value: object) -> str:
    return "" if value is None else escape(str(value), quote=True)
