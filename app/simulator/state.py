"""The simulator's memory: jobs by task_id, recorded requests and callback attempts, rules."""

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from app.simulator.rules import Rule

# Bounded so a long benchmark cannot grow the recordings without limit; jobs stay retrievable.
MAX_RECORDS = 100_000


@dataclass
class Job:
    id: str
    trace_id: str
    type: str
    request: dict[str, Any]
    created_at: float
    started_at: float
    finished_at: float | None = None
    response: Any = None

    def finish(self, response: Any, at: float) -> None:
        # The first outcome wins, as on the real API: a task finishes once.
        if self.finished_at is None:
            self.finished_at = at
            self.response = response

    def record(self) -> dict[str, Any]:
        """The task record /fish/tasks answers (tasks_retrieve_*.json)."""
        record: dict[str, Any] = {
            "id": self.id,
            "trace_id": self.trace_id,
            "type": self.type,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "request": self.request,
            "response": self.response,
        }
        if self.finished_at is not None:
            record["finished_at"] = self.finished_at
            record["elapsed"] = round(self.finished_at - self.started_at, 3)
        return record


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    authorized: bool
    body: Any
    time: float


@dataclass
class CallbackAttempt:
    task_id: str
    url: str
    body: Any
    status: int | None
    error: str | None
    time: float


@dataclass
class SimState:
    jobs: dict[str, Job] = field(default_factory=dict)
    requests: deque[RecordedRequest] = field(default_factory=lambda: deque(maxlen=MAX_RECORDS))
    callbacks: deque[CallbackAttempt] = field(default_factory=lambda: deque(maxlen=MAX_RECORDS))
    rules: list[Rule] = field(default_factory=list)
    # Voice models created (/fish/model) or cloned (/fish/voices), by their Fish id.
    models: dict[str, dict[str, Any]] = field(default_factory=dict)

    def remember_model(self, result: dict[str, Any]) -> None:
        data = result.get("data")
        if result.get("success") is True and isinstance(data, dict) and "_id" in data:
            self.models[str(data["_id"])] = data

    def take_rule(self, path: str) -> Rule | None:
        """The first rule for `path` with uses left, with one use spent."""
        for rule in self.rules:
            if rule.applies_to(path) and rule.times != 0:
                if rule.times is not None:
                    rule.times -= 1
                return rule
        return None

    def reset(self) -> None:
        self.jobs.clear()
        self.requests.clear()
        self.callbacks.clear()
        self.rules.clear()
        self.models.clear()
