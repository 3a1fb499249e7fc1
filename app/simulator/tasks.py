"""POST /fish/tasks: retrieving task records, one or a batch."""

from typing import Any

from fastapi.responses import JSONResponse

from app.simulator import bodies
from app.simulator.state import SimState

MAX_BATCH = 50


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse(bodies.bad_request(message), status_code=400)


def query_tasks(state: SimState, body: Any) -> JSONResponse:
    if not isinstance(body, dict):
        return _bad_request("request body must be a JSON object")
    action = body.get("action")
    if action == "retrieve":
        task_id = body.get("id")
        if not isinstance(task_id, str) or not task_id:
            return _bad_request("id is required")
        job = state.jobs.get(task_id)
        if job is None:
            return JSONResponse(bodies.not_found(f"task {task_id} not found"), status_code=404)
        return JSONResponse(job.record())
    if action == "retrieve_batch":
        ids = body.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return _bad_request("ids must be a list of task ids")
        if len(ids) > MAX_BATCH:
            return _bad_request(f"ids must contain at most {MAX_BATCH} items")
        jobs = (state.jobs.get(task_id) for task_id in dict.fromkeys(ids))
        items = [job.record() for job in jobs if job is not None]
        return JSONResponse({"items": items, "count": len(items)})
    return _bad_request("action must be retrieve or retrieve_batch")
