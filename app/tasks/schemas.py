"""What clients send (strict: unknown fields are refused) and the Task they get back."""

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Protocol

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.archive.schemas import Archive, summary
from app.openapi import strings_refuse_nul
from app.tasks.models import Task


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=strings_refuse_nul)

    @field_validator("*", mode="before")
    @classmethod
    def no_nul_characters(cls, value: object) -> object:
        # PostgreSQL text and jsonb cannot hold U+0000: refuse it here as the client's
        # mistake (422) instead of failing the INSERT later.
        if _has_nul(value):
            raise ValueError("must not contain the NUL character (\\u0000)")
        return value


class SubmitRequest(Protocol):
    """What tasks.service.submit needs of a request: its webhook, its input, its upstream call."""

    upstream_path: ClassVar[str]
    callback_url: AnyHttpUrl | None

    def model_dump(self, *, mode: str, exclude_none: bool) -> dict[str, Any]: ...

    def upstream(self) -> tuple[dict[str, Any], dict[str, str]]: ...


class VoiceRequest(_Strict):
    """POST /v1/voices: clone a voice from a sample (forwarded to /fish/voices)."""

    upstream_path: ClassVar[str] = "/fish/voices"
    voice_url: AnyHttpUrl
    title: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=5000)
    image_url: AnyHttpUrl | None = None
    # The seed document's name for the cover; AceData takes one `image_url`.
    image_urls: AnyHttpUrl | list[AnyHttpUrl] | None = Field(default=None, exclude=True)
    callback_url: AnyHttpUrl | None = None

    @model_validator(mode="after")
    def merge_image_urls(self) -> "VoiceRequest":
        if self.image_url is None and self.image_urls:
            urls = self.image_urls if isinstance(self.image_urls, list) else [self.image_urls]
            self.image_url = urls[0]
        return self

    def upstream(self) -> tuple[dict[str, Any], dict[str, str]]:
        return self.model_dump(mode="json", exclude_none=True, exclude={"callback_url"}), {}


# reference_id as a list: several voice ids, mixed by Fish.
VoiceIds = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]], Field(min_length=1, max_length=10)
]


class Prosody(_Strict):
    speed: float | None = Field(default=None, gt=0, le=4)
    volume: float | None = Field(default=None, ge=-40, le=40)


class Reference(_Strict):
    """A one-shot voice: a sample's audio URL and its exact transcript."""

    audio: AnyHttpUrl
    text: str = Field(min_length=1, max_length=10_000)


class SpeechRequest(_Strict):
    """POST /v1/speech: text to speech (forwarded to /fish/tts; `model` goes in a header).

    Every field of AceData's current /fish/tts spec (acedatacloud 2026.10.20)."""

    upstream_path: ClassVar[str] = "/fish/tts"

    text: str = Field(min_length=1, max_length=20_000)
    reference_id: Annotated[str, Field(max_length=200)] | VoiceIds | None = None
    references: list[Reference] | None = Field(default=None, min_length=1, max_length=10)
    format: Literal["mp3", "wav", "pcm"] | None = None
    model: Literal["s1", "s2-pro", "s2.1-pro"] | None = None
    prosody: Prosody | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    chunk_length: int | None = Field(default=None, ge=1, le=1000)
    normalize: bool | None = None
    latency: Literal["normal", "balanced"] | None = None
    mp3_bitrate: Literal[64, 128, 192] | None = None
    opus_bitrate: int | None = Field(default=None, ge=-1000, le=510_000)
    min_chunk_length: int | None = Field(default=None, ge=0, le=1000)
    sample_rate: int | None = Field(default=None, gt=0)
    max_new_tokens: int | None = Field(default=None, ge=0)
    repetition_penalty: float | None = Field(default=None, gt=0)
    callback_url: AnyHttpUrl | None = None

    def upstream(self) -> tuple[dict[str, Any], dict[str, str]]:
        body = self.model_dump(mode="json", exclude_none=True, exclude={"callback_url", "model"})
        return body, ({"model": self.model} if self.model else {})


class TaskOut(BaseModel):
    id: str
    task_id: str | None
    kind: str
    status: str
    input: dict[str, Any]
    output: dict[str, Any] | None
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    trace_id: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    # Requests in the deliveries log for this task (GET /v1/deliveries?task_id=...).
    deliveries: int = 0
    # The copy of the generated audio kept by fishhook (app/archive); null until the task
    # succeeded with a file to keep.
    archive: Archive | None = None

    @field_validator("deliveries", mode="before")
    @classmethod
    def not_loaded_is_none_yet(cls, value: object) -> object:
        # Only reads load the count; a task fresh from submit has had no delivery.
        return 0 if value is None else value

    @field_validator("archive", mode="before")
    @classmethod
    def archive_from_files(cls, value: object, info: ValidationInfo) -> object:
        # Reads load the task's file rows (a list); the public URL comes in the context.
        if isinstance(value, list):
            base = (info.context or {}).get("public_url", "")
            return summary(value, task_id=info.data["id"], base=base)
        return value

    @classmethod
    def of(cls, task: Task, public_url: str = "") -> "TaskOut":
        return cls.model_validate(task, from_attributes=True, context={"public_url": public_url})


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None
