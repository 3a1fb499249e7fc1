"""Checks of submit bodies, answering with the error shape each endpoint really uses."""

from typing import Any

from fastapi.responses import JSONResponse

from app.simulator import bodies

TTS_FORMATS = ("mp3", "wav", "pcm")
TTS_LATENCIES = ("normal", "balanced")
TTS_MODELS = ("s1", "s2-pro", "s2.1-pro")


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse(bodies.bad_request(message), status_code=400)


def _optional_string(body: dict[str, Any], name: str) -> bool:
    return body.get(name) is None or isinstance(body[name], str)


def check_voices(body: Any) -> JSONResponse | None:
    if not isinstance(body, dict):
        return _bad_request("request body must be a JSON object")
    if not isinstance(body.get("voice_url"), str) or not body["voice_url"]:
        return _bad_request("voice_url is required")
    for name in ("title", "description", "image_url", "callback_url"):
        if not _optional_string(body, name):
            return _bad_request(f"{name} must be a string")
    return None


def check_audios(body: Any) -> JSONResponse | None:
    if not isinstance(body, dict):
        return _bad_request("request body must be a JSON object")
    if body.get("action") != "speech":
        return _bad_request("action must be speech")
    for name in ("prompt", "voice_id"):
        if not isinstance(body.get(name), str) or not body[name]:
            return _bad_request(f"{name} is required")
    if not _optional_string(body, "callback_url"):
        return _bad_request("callback_url must be a string")
    return None


def check_tts(body: Any, model: str | None) -> JSONResponse | None:
    """Pydantic-style errors, as the real /fish/tts reports them (error_tts_validation.json)."""
    errors: list[dict[str, Any]] = []
    if model is not None and model not in TTS_MODELS:
        errors.append(bodies.literal_error("model", TTS_MODELS, model))
    if not isinstance(body, dict):
        errors.append(
            {
                "type": "model_attributes_type",
                "loc": [],
                "msg": "Input should be a valid dictionary or object to extract fields from",
                "input": body,
            }
        )
    else:
        if "text" not in body:
            errors.append(
                {"type": "missing", "loc": ["text"], "msg": "Field required", "input": body}
            )
        elif not isinstance(body["text"], str):
            errors.append(_string_type("text", body["text"]))
        if "format" in body and body["format"] not in TTS_FORMATS:
            errors.append(bodies.literal_error("format", TTS_FORMATS, body["format"]))
        if "latency" in body and body["latency"] not in TTS_LATENCIES:
            errors.append(bodies.literal_error("latency", TTS_LATENCIES, body["latency"]))
        if not _optional_string(body, "callback_url"):
            errors.append(_string_type("callback_url", body["callback_url"]))
        if "async" in body and not isinstance(body["async"], bool):
            errors.append(
                {
                    "type": "bool_type",
                    "loc": ["async"],
                    "msg": "Input should be a valid boolean",
                    "input": body["async"],
                }
            )
    if errors:
        return JSONResponse(bodies.tts_validation(errors), status_code=400)
    return None


def _string_type(field: str, value: Any) -> dict[str, Any]:
    return {
        "type": "string_type",
        "loc": [field],
        "msg": "Input should be a valid string",
        "input": value,
    }
