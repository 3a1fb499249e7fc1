"""AceData's request bodies on /fish/*, as its spec (acedatacloud 2026.10.20) defines them.

/fish/tts and /fish/voices reuse fishhook's own /v1 models, which carry every field of the
current spec; each adds AceData's `async` flag (never forwarded: fishhook always gives
AceData its own callback_url). /fish/audios and /fish/model exist only here.
"""

from typing import Any, ClassVar, Literal

from pydantic import AnyHttpUrl, Field

from app.tasks.schemas import SpeechRequest, VoiceRequest, _Strict

TTS_MODELS = ("s1", "s2-pro", "s2.1-pro")


class _Async:
    """AceData's `async`: answer `{task_id}` at once instead of the finished result."""

    async_: bool | None

    @property
    def blocking(self) -> bool:
        """Without callback_url and without async AceData answers the finished result."""
        callback_url: object = getattr(self, "callback_url", None)
        return not self.async_ and callback_url is None


class FishTts(SpeechRequest, _Async):
    """POST /fish/tts (the engine is the `model` header, copied into `model` here)."""

    async_: bool | None = Field(default=None, alias="async", exclude=True)


class FishVoices(VoiceRequest, _Async):
    """POST /fish/voices."""

    async_: bool | None = Field(default=None, alias="async", exclude=True)


class FishAudios(_Strict, _Async):
    """POST /fish/audios: AceData's older speech API."""

    upstream_path: ClassVar[str] = "/fish/audios"

    action: Literal["speech"]
    prompt: str = Field(min_length=1, max_length=20_000)
    voice_id: str = Field(min_length=1, max_length=200)
    model: str | None = Field(default=None, max_length=100)
    callback_url: AnyHttpUrl | None = None
    async_: bool | None = Field(default=None, alias="async", exclude=True)

    def upstream(self) -> tuple[dict[str, Any], dict[str, str]]:
        return self.model_dump(mode="json", exclude_none=True, exclude={"callback_url"}), {}


class FishModel(_Strict, _Async):
    """POST /fish/model: create a voice model from reference audio (a task like a clone)."""

    upstream_path: ClassVar[str] = "/fish/model"

    title: str = Field(min_length=1, max_length=500)
    voices: AnyHttpUrl | list[AnyHttpUrl]
    tags: list[str] | None = Field(default=None, max_length=50)
    texts: list[str] | None = Field(default=None, max_length=50)
    visibility: Literal["public", "private"] | None = None
    cover_image: str | None = Field(default=None, max_length=2000)
    description: str | None = Field(default=None, max_length=5000)
    generate_sample: bool | None = None
    enhance_audio_quality: bool | None = None
    callback_url: AnyHttpUrl | None = None
    async_: bool | None = Field(default=None, alias="async", exclude=True)

    def upstream(self) -> tuple[dict[str, Any], dict[str, str]]:
        return self.model_dump(mode="json", exclude_none=True, exclude={"callback_url"}), {}
