"""AceData-shaped bodies (results, callbacks, errors) in the shapes of shared/fixtures/acedata."""

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

# Where AceData's generated files live; the simulator serves its own under /media/.
FISH_AUDIO_MEDIA_URL = "https://platform.r2.fish.audio/"
DEFAULT_TEXT = "Dolphins navigate the ocean using echolocation."
# One fixed author, as every voice a token clones belongs to the same account.
AUTHOR_ID = "7ecad23df62a4174acd6a2a6cb5201ee"


def new_uuid() -> str:
    """AceData's own ids (task_id, trace_id) are uuid4 strings."""
    return str(uuid.uuid4())


def fish_id() -> str:
    """Fish Audio's ids (voices, samples, audio files) are 32 hex digits."""
    return uuid.uuid4().hex


def audio_url(media: str = FISH_AUDIO_MEDIA_URL) -> str:
    return f"{media}task/{fish_id()}.mp3"


def iso_utc(ts: float, timespec: str = "milliseconds") -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def _text(value: Any, default: str) -> str:
    return value if isinstance(value, str) else default


# --- results: what a finished job's callback (or synchronous answer) carries ---


def voice_result(task_id: str, trace_id: str, request: dict[str, Any]) -> dict[str, Any]:
    voice_id, sample_id = fish_id(), fish_id()
    stamp = iso_utc(time.time(), "microseconds")
    return {
        "success": True,
        "task_id": task_id,
        "trace_id": trace_id,
        "data": {
            "_id": voice_id,
            "type": "tts",
            "title": _text(request.get("title"), "Untitled"),
            "description": _text(request.get("description"), ""),
            "cover_image": f"coverimage/{voice_id}",
            "train_mode": "fast",
            "state": "trained",
            "tags": [],
            "samples": [
                {
                    "title": "Default Sample",
                    "text": DEFAULT_TEXT,
                    "task_id": sample_id,
                    "audio": f"task/{sample_id}.mp3",
                }
            ],
            "created_at": stamp,
            "updated_at": stamp,
            "languages": ["en"],
            "visibility": "public",
            "lock_visibility": False,
            "default_text": DEFAULT_TEXT,
            "like_count": 0,
            "mark_count": 0,
            "shared_count": 0,
            "task_count": 0,
            "unliked": False,
            "liked": False,
            "marked": False,
            "author": {
                "_id": AUTHOR_ID,
                "nickname": "Fish Simulator",
                "avatar": f"avatars/{AUTHOR_ID}.jpg",
            },
        },
    }


def tts_result(task_id: str, media: str = FISH_AUDIO_MEDIA_URL) -> dict[str, Any]:
    return {"task_id": task_id, "audio_url": audio_url(media)}


def audios_result(task_id: str, trace_id: str, media: str = FISH_AUDIO_MEDIA_URL) -> dict[str, Any]:
    return {
        "success": True,
        "task_id": task_id,
        "trace_id": trace_id,
        "data": [{"audio_url": audio_url(media)}],
    }


def failure(task_id: str, trace_id: str, message: str) -> dict[str, Any]:
    return {
        "success": False,
        "task_id": task_id,
        "trace_id": trace_id,
        "error": {"code": "bad_request", "message": message},
    }


def tts_failure(task_id: str, trace_id: str, message: str) -> dict[str, Any]:
    return {"status": 400, "message": message, "task_id": task_id, "trace_id": trace_id}


# --- synchronous error answers (each with a fresh trace_id) ---


def error(code: str, message: str) -> dict[str, Any]:
    return {"success": False, "error": {"code": code, "message": message}, "trace_id": new_uuid()}


def no_token() -> dict[str, Any]:
    return error("no_token", "Token is required in the authorization header.")


def invalid_token() -> dict[str, Any]:
    return error("invalid_token", "The specified token is invalid or wrong.")


def bad_request(message: str) -> dict[str, Any]:
    return error("bad_request", message)


def used_up() -> dict[str, Any]:
    # AceData's used_up answer has no "success" key (see error_used_up.json).
    body = error(
        "used_up",
        "Your balance is not sufficient for current request, please buy more in Ace Data Cloud.",
    )
    del body["success"]
    return body


def too_many_requests() -> dict[str, Any]:
    return error("too_many_requests", "You have exceeded the rate limit.")


def api_error(message: str = "fetch failed") -> dict[str, Any]:
    return error("api_error", message)


def not_found(message: str) -> dict[str, Any]:
    return error("not_found", message)


def no_api(path: str) -> dict[str, Any]:
    return error("no_api", f"The API {path} does not exist.")


def timeout() -> dict[str, Any]:
    return error("timeout", "The request timed out waiting for the upstream service.")


def tts_validation(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The /fish/tts validation answer: pydantic's error list, JSON-encoded, as `message`."""
    return {"status": 400, "message": json.dumps(errors, separators=(",", ":"))}


def literal_error(field: str, allowed: tuple[str, ...], value: Any) -> dict[str, Any]:
    quoted = [f"'{choice}'" for choice in allowed]
    # Pydantic's wording: "'a' or 'b'", "'a', 'b' or 'c'".
    head = ", ".join(quoted[:-1])
    expected = f"{head} or {quoted[-1]}" if head else quoted[-1]
    return {
        "type": "literal_error",
        "loc": [field],
        "msg": f"Input should be {expected}",
        "input": value,
    }
