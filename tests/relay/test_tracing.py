"""Traces: a submit (with its AceData call), a callback (with its commit) and a relay attempt
each make spans that carry the task id; with tracing off, nothing is recorded."""

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app import tracing
from tests.support.relay import finished_task, relays_when, settled


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.install(None)
        provider.shutdown()


def named(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def child_of(child: ReadableSpan, parent: ReadableSpan) -> bool:
    return child.parent is not None and child.parent.span_id == parent.context.span_id


async def test_submit_callback_and_relay_make_spans_with_the_task_id(
    exported, app, client, receiver
):
    task = await finished_task(client, receiver)
    [message] = await relays_when(client, task["id"], settled)
    assert message["status"] == "delivered"
    spans = exported.get_finished_spans()

    [submit] = named(spans, "fishhook.submit")
    assert submit.attributes["fishhook.task"] == task["id"]
    assert submit.attributes["fishhook.task_id"] == task["task_id"]
    [upstream] = [s for s in named(spans, "acedata.request") if child_of(s, submit)]
    assert upstream.attributes["acedata.endpoint"] == "/fish/tts"
    assert upstream.attributes["fishhook.task_id"] == task["task_id"]

    [callback] = named(spans, "fishhook.callback")
    assert callback.attributes["fishhook.task"] == task["id"]
    assert callback.attributes["fishhook.task_id"] == task["task_id"]
    assert callback.attributes["fishhook.outcome"] == "applied"
    [commit] = named(spans, "fishhook.callback.commit")
    assert child_of(commit, callback)

    [relay] = named(spans, "fishhook.relay_attempt")
    assert relay.attributes["fishhook.task_id"] == task["task_id"]
    assert relay.attributes["fishhook.relay.result"] == "delivered"
    assert relay.attributes["http.response.status_code"] == 200


async def test_tracing_off_records_nothing_and_costs_one_shared_object(client, receiver):
    assert tracing.span("a", x=1) is tracing.span("b")
    with tracing.span("fishhook.submit") as span:
        span.set_attribute("fishhook.task", "tsk_x")  # accepted and dropped


@pytest.mark.parametrize(
    ("asked", "environ", "wanted"),
    [
        (False, {}, False),
        (True, {}, True),
        (False, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        (False, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        (True, {"OTEL_SDK_DISABLED": "true"}, False),
        (True, {"OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_standard_variables_switch_tracing(asked, environ, wanted):
    assert tracing.wanted(asked, environ) is wanted
