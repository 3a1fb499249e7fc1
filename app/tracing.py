"""Traces, with the optional extra `fishhook[otel]`: spans for submits, callbacks and relays.

Off (and free: `span()` hands back one shared no-op) unless the OpenTelemetry SDK is
installed and asked for, by FISHHOOK_OPENTELEMETRY=true or by the standard variables
OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SDK_DISABLED=true
and OTEL_TRACES_EXPORTER=none switch it off. Everything else (service name, headers,
sampling, batch sizes) comes from the standard OTEL_* variables, read by the SDK itself.
Spans carry ids (fishhook's task id, AceData's task id, the relay message id), never
bodies, URLs with credentials or secrets.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from app.log import get_logger

log = get_logger("fishhook.tracing")


class Span(Protocol):
    def set_attribute(self, key: str, value: Any) -> None: ...


class _NoSpan:
    """Tracing off: one shared object is both the context manager and the span."""

    def __enter__(self) -> "_NoSpan":
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def set_attribute(self, key: str, value: Any) -> None:
        pass


_NO_SPAN = _NoSpan()
_tracer: Any = None  # an opentelemetry Tracer, once configured


def wanted(asked: bool, environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "").lower() == "none":
        return False
    endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    return asked or bool(endpoint)


def configure(asked: bool) -> bool:
    """Export spans over OTLP/HTTP when wanted and installed; whether tracing is on."""
    if not wanted(asked):
        return False
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning(
            "tracing_unavailable",
            detail="tracing was asked for but the OpenTelemetry SDK is not installed: "
            "pip install 'fishhook[otel]'",
        )
        return False
    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
    provider = TracerProvider(resource=Resource.create({"service.name": "fishhook"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    install(provider)
    log.info("tracing_on")
    return True


def install(provider: Any) -> None:
    """Send spans to `provider` (an SDK TracerProvider; tests pass one with an in-memory
    exporter); None switches tracing off again."""
    global _tracer
    _tracer = None if provider is None else provider.get_tracer("fishhook")


@contextmanager
def _started(name: str, attributes: dict[str, Any]) -> Iterator[Span]:
    with _tracer.start_as_current_span(name, attributes=attributes) as span:
        yield span


def span(name: str, **attributes: Any) -> Any:
    """A context manager around one span (a no-op when tracing is off); attributes with a
    None value are left out."""
    if _tracer is None:
        return _NO_SPAN
    return _started(name, {k: v for k, v in attributes.items() if v is not None})
