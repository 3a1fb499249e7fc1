"""How the inspector presents stored values: JSON highlighted, the real reason of an outcome,
"copy as curl" without the credential, a task's timeline. Everything returned as Markup is
built from escaped pieces; everything else is escaped by the templates."""

import json
import re
import shlex
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from markupsafe import Markup, escape

from app.callbacks import credentials
from app.callbacks.models import Delivery
from app.callbacks.redaction import REDACTED, query_pairs
from app.relay.models import RelayAttempt, RelayMessage
from app.tasks.models import Task

CREDENTIAL_PLACEHOLDER = "$FISHHOOK_CALLBACK_TOKEN"
_TOKEN = re.compile(
    r'(?P<key>"(?:\\.|[^"\\])*"(?=\s*:))|(?P<str>"(?:\\.|[^"\\])*")'
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<lit>\btrue\b|\bfalse\b|\bnull\b)"
)
# Headers a replayed curl command must not carry: the transport sets them itself.
_HOP_HEADERS = frozenset(
    {"host", "content-length", "connection", "accept-encoding", "transfer-encoding"}
)
OUTCOME_MEANING = {
    "applied": "finished its task",
    "duplicate": "its task already had exactly this result; nothing changed",
    "late": "its task had already finished with another result; nothing changed",
    "unauthenticated": "refused: the callback credential did not check out",
    "invalid": "refused: the body was not understood",
    "unmatched": "refused: the credential is valid but the task does not exist",
}


def highlight_json(value: Any) -> Markup:
    """Pretty-printed JSON with <span class="j-key|j-str|j-num|j-lit"> around tokens."""
    pretty = json.dumps(value, indent=2, ensure_ascii=False)
    out: list[str] = []
    last = 0
    for match in _TOKEN.finditer(pretty):
        out.append(str(escape(pretty[last : match.start()])))
        kind = match.lastgroup or "str"
        out.append(f'<span class="j-{kind}">{escape(match.group())}</span>')
        last = match.end()
    out.append(str(escape(pretty[last:])))
    return Markup("".join(out))  # noqa: S704 (every piece above is escaped)


@dataclass(frozen=True, slots=True)
class Body:
    kind: str  # "json", "text", "binary" or "missing"
    pretty: Markup | None
    raw: str | None


def body(delivery: Delivery) -> Body:
    if delivery.body is None:
        return Body("missing", None, None)
    try:
        raw = delivery.body.decode("utf-8")
    except UnicodeDecodeError:
        return Body("binary", None, delivery.body.hex(" ", 2))
    try:
        return Body("json", highlight_json(json.loads(raw)), raw)
    except (ValueError, RecursionError):
        return Body("text", None, raw)


def reason(outcome: str, detail: str | None, has_body: bool) -> str:
    """Why a delivery ended as it did, in words (the stored detail when there is one)."""
    if detail:
        return detail
    if outcome == "unauthenticated":
        return "the callback credential did not check out"
    if outcome == "invalid" and not has_body:
        return "body too large: not kept"
    return OUTCOME_MEANING.get(outcome, outcome)


def curl(delivery: Delivery, public_url: str) -> str:
    """The request again as a curl command, its credential replaced by a placeholder."""
    pairs = query_pairs(delivery.query)
    # urlencode escapes every character a shell treats specially ($, `, ", \), so the URL
    # is safe in double quotes, which the placeholder variable needs.
    query = urlencode([(k, v) for k, v in pairs if k != credentials.TOKEN_PARAM])
    if any(k == credentials.TOKEN_PARAM for k, _ in pairs):
        query += ("&" if query else "") + f"{credentials.TOKEN_PARAM}={CREDENTIAL_PLACEHOLDER}"
    url = f"{public_url}/callbacks" + (f"?{query}" if query else "")
    parts = [f'curl -X {shlex.quote(delivery.method)} "{url}"']
    for name, value in delivery.headers.items():
        if name not in _HOP_HEADERS and value != REDACTED:
            parts.append(f"-H {shlex.quote(f'{name}: {value}')}")
    if delivery.body:
        text = delivery.body.decode("utf-8", errors="replace")
        parts.append(f"--data-binary {shlex.quote(text)}")
    return " \\\n  ".join(parts)


def origin(url: str | None) -> str:
    """Scheme and host of a URL: its path and query may hold a receiver's secret."""
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def task_input(task: Task) -> dict[str, Any]:
    shown = dict(task.input)
    if shown.get("callback_url"):
        shown["callback_url"] = origin(str(shown["callback_url"])) + "/…"
    return shown


def audio_source(task: Task, archived: bool) -> str | None:
    """Where the task page's player reads the audio from: fishhook's own copy once it is
    archived (it outlives AceData's URL, which expires within hours), else AceData's URL."""
    url = (task.output or {}).get("audio_url")
    if not (isinstance(url, str) and url.startswith(("https://", "http://"))):
        return None
    return f"/ui/tasks/{task.id}/audio" if archived else url


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime | None
    what: str
    tone: str  # a CSS class: ok, bad, warn, info
    detail: str = ""
    link: str = ""


def timeline(
    task: Task, deliveries: list[Any], relays: list[tuple[RelayMessage, list[RelayAttempt]]]
) -> list[Event]:
    events = [Event(task.created_at, "Created", "info", f"{task.kind} task stored")]
    if task.task_id:
        events.append(Event(None, "Submitted to AceData", "info", f"task_id {task.task_id}"))
    elif task.error and task.status == "pending":
        events.append(Event(None, "Submit outcome unknown", "warn", str(task.error.get("code"))))
    for d in reversed(deliveries):
        source = {
            "reconcile": "Reconciliation found the result",
            "submit": "Result in the submit answer",
        }
        what = source.get(d.source, f"{d.source.capitalize()} received")
        tone = "ok" if d.outcome == "applied" else "bad" if d.outcome in _REFUSED else "warn"
        events.append(Event(d.received_at, what, tone, d.outcome, f"/ui/deliveries/{d.id}"))
    if task.finished_at:
        tone = {"succeeded": "ok", "failed": "bad"}.get(task.status, "warn")
        code = (task.error or {}).get("code")
        detail = task.status + (f" ({code})" if code else "")
        events.append(Event(task.finished_at, "Finished", tone, detail))
    for message, attempts in relays:
        events.append(
            Event(
                message.created_at,
                "Relay queued",
                "info",
                f"{message.event} → {origin(message.url)}",
            )
        )
        for a in attempts:
            ok = a.status_code is not None and 200 <= a.status_code < 300
            answer = str(a.status_code) if a.status_code is not None else (a.error or "no answer")
            manual = " (resent by hand)" if a.manual else ""
            events.append(
                Event(
                    a.started_at,
                    f"Relay attempt {a.number}{manual}",
                    "ok" if ok else "bad",
                    f"{answer} in {a.latency_ms} ms",
                )
            )
        if message.status == "dead":
            events.append(Event(None, "Relay gave up", "bad", message.last_error or ""))
    timed = sorted((e for e in events if e.at), key=lambda e: e.at or task.created_at)
    # Untimed steps (AceData's acceptance) sit right after creation.
    return timed[:1] + [e for e in events if not e.at] + timed[1:]


_REFUSED = frozenset({"unauthenticated", "invalid", "unmatched"})


def size(n: int) -> str:
    if n < 0:
        return "unknown size"
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KiB" if n < 1024 * 1024 else f"{n / 1048576:.1f} MiB"
