"""Script rules (POST /_sim/rules): scripted answers, delays and callback faults."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SUBMIT_PATHS = ("/fish/voices", "/fish/tts", "/fish/audios", "/fish/model")
Endpoint = Literal["/fish/voices", "/fish/tts", "/fish/audios", "/fish/model", "/fish/tasks", "*"]
CallbackMode = Literal["normal", "lost", "duplicate", "failure", "never"]


class Respond(BaseModel):
    """An answer sent instead of normal processing (no job is created)."""

    # Typos in a test's script should fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid")

    status: int = Field(ge=100, le=599)
    body: Any = None  # sent as JSON; None sends no body at all
    text: str | None = None  # sent raw instead of `body` (say, a proxy's HTML error page)
    headers: dict[str, str] = Field(default_factory=dict)


class CallbackScript(BaseModel):
    """How a job created by the matching submit finishes and is called back."""

    model_config = ConfigDict(extra="forbid")

    mode: CallbackMode = "normal"
    delay: float | None = Field(default=None, ge=0)
    body: dict[str, Any] | None = None
    copies: int = Field(default=2, ge=1, le=100)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: Endpoint = "*"
    times: int | None = Field(default=None, ge=0)  # None: unlimited
    respond: Respond | None = None
    delay: float | None = Field(default=None, ge=0)
    callback: CallbackScript | None = None

    def applies_to(self, path: str) -> bool:
        if self.endpoint not in ("*", path):
            return False
        # A callback-only rule must not be used up by requests that create no job.
        only_callback = self.respond is None and self.delay is None and self.callback is not None
        return not only_callback or path in SUBMIT_PATHS
