"""Voice models: POST /fish/model creates one (a job like a clone), GET /fish/model lists
them (paged, filtered), GET /fish/model/{id} reads one. Voices cloned with /fish/voices join
the catalogue too, as on AceData."""

from typing import Any

from fastapi.responses import JSONResponse

from app.simulator import bodies
from app.simulator.state import SimState

# One public model is always there: AceData's documented example voice.
EXAMPLE_MODEL_ID = "d7900c21663f485ab63ebdb7e5905036"


_SAMPLE_ID = "68cdda24d26e4794bae177e20da740db"


def example_model() -> dict[str, Any]:
    """The same model on every read: fixed ids and times."""
    data: dict[str, Any] = bodies.voice_result("", "", {"title": "Example voice"})["data"]
    stamp = "2025-09-21T07:36:20.200865Z"
    data.update(
        _id=EXAMPLE_MODEL_ID,
        cover_image=f"coverimage/{EXAMPLE_MODEL_ID}",
        tags=["example"],
        created_at=stamp,
        updated_at=stamp,
    )
    data["samples"][0].update(task_id=_SAMPLE_ID, audio=f"task/{_SAMPLE_ID}.mp3")
    return data


def model_result(task_id: str, trace_id: str, request: dict[str, Any]) -> dict[str, Any]:
    """A created model: a cloned voice's body, with the request's own tags and visibility."""
    result = bodies.voice_result(task_id, trace_id, request)
    for name in ("tags", "visibility"):
        if name in request:
            result["data"][name] = request[name]
    return result


def check_model(body: Any) -> JSONResponse | None:
    if not isinstance(body, dict):
        return JSONResponse(bodies.bad_request("request body must be a JSON object"), 400)
    if not isinstance(body.get("title"), str) or not body["title"]:
        return JSONResponse(bodies.bad_request("title is required"), 400)
    voices = body.get("voices")
    if not (isinstance(voices, str) and voices) and not (
        isinstance(voices, list) and voices and all(isinstance(v, str) for v in voices)
    ):
        return JSONResponse(bodies.bad_request("voices is required"), 400)
    return None


def _int(params: dict[str, str], name: str, default: int) -> int:
    try:
        return max(1, int(params.get(name, default)))
    except ValueError:
        return default


def list_models(state: SimState, params: dict[str, str]) -> JSONResponse:
    models = [example_model(), *state.models.values()]
    if params.get("title"):
        models = [m for m in models if params["title"].lower() in str(m.get("title")).lower()]
    if params.get("tag"):
        models = [m for m in models if params["tag"] in m.get("tags", [])]
    if params.get("self", "").lower() == "true":
        models = [m for m in models if m["_id"] in state.models]
    size, number = _int(params, "page_size", 10), _int(params, "page_number", 1)
    page = models[(number - 1) * size : number * size]
    return JSONResponse(
        {"total": len(models), "items": page, "has_more": number * size < len(models)}
    )


def read_model(state: SimState, model_id: str) -> JSONResponse:
    if model_id == EXAMPLE_MODEL_ID:
        return JSONResponse(example_model())
    model = state.models.get(model_id)
    if model is None:
        return JSONResponse(bodies.not_found(f"model {model_id} not found"), status_code=404)
    return JSONResponse(model)
