"""The fake AceData Fish API: app factory, the /fish/* gate (record, script, auth) and run()."""

import asyncio
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app.simulator import bodies
from app.simulator.admin import get_state
from app.simulator.admin import router as admin_router
from app.simulator.jobs import JobRunner
from app.simulator.kinds import SUBMITS
from app.simulator.media import MediaState
from app.simulator.media import router as media_router
from app.simulator.models import list_models, read_model
from app.simulator.rules import Respond, Rule
from app.simulator.state import RecordedRequest, SimState
from app.simulator.tasks import query_tasks

CALLBACK_TIMEOUT = 10.0


def create_simulator_app(
    *,
    token: str,
    callback_delay: float = 0.5,
    callback_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    state = SimState()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            transport=callback_transport, timeout=CALLBACK_TIMEOUT
        ) as client:
            runner = JobRunner(state, client, callback_delay)
            app.state.sim_runner = runner
            try:
                yield
            finally:
                await runner.close()

    app = FastAPI(title="AceData Fish API simulator", lifespan=lifespan)
    app.state.sim_state = state
    app.state.sim_token = token
    app.state.media = MediaState()
    app.include_router(admin_router)
    app.include_router(media_router)
    app.add_api_route("/fish/{name}", fish_endpoint, methods=["POST"])
    app.add_api_route("/fish/model", fish_endpoint, methods=["GET"])
    app.add_api_route("/fish/model/{model_id}", fish_endpoint, methods=["GET"])
    # AceData routes by method and path: anything else is an API it does not have.
    app.add_exception_handler(HTTPException, _no_api)
    return app


async def _no_api(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code not in (404, 405):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
    return JSONResponse(bodies.no_api(request.url.path), status_code=404)


def run(host: str, port: int, token: str, delay: float) -> None:
    """Serve the simulator until interrupted (the `fishhook simulator` command)."""
    uvicorn.run(
        create_simulator_app(token=token, callback_delay=delay),
        host=host,
        port=port,
        log_level="warning",
    )


async def fish_endpoint(request: Request) -> Response:
    """Every /fish/* call: record it, apply the first matching rule, then answer."""
    state = get_state(request)
    path = request.url.path
    body = _decode(await request.body())
    authorization = request.headers.get("authorization")
    authorized = authorization is not None and _token_matches(authorization, request)
    headers = dict(request.headers)
    if authorization is not None:
        headers["authorization"] = "Bearer ***"
    state.requests.append(
        RecordedRequest(
            method=request.method,
            path=path,
            headers=headers,
            authorized=authorized,
            body=body,
            time=time.time(),
        )
    )
    rule = state.take_rule(path)
    response = await _answer(request, path, body, authorized, rule)
    if rule is not None and rule.delay:
        await asyncio.sleep(rule.delay)
    return response


async def _answer(
    request: Request, path: str, body: Any, authorized: bool, rule: Rule | None
) -> Response:
    if rule is not None and rule.respond is not None:
        return _scripted(rule.respond)
    if not request.headers.get("authorization"):
        return JSONResponse(bodies.no_token(), status_code=400)
    if not authorized:
        return JSONResponse(bodies.invalid_token(), status_code=401)
    if request.method == "GET":
        model_id = request.path_params.get("model_id")
        if model_id is None:
            return list_models(get_state(request), dict(request.query_params))
        return read_model(get_state(request), model_id)
    if path == "/fish/tasks":
        return query_tasks(get_state(request), body)
    kind = SUBMITS.get(path)
    if kind is None:
        return JSONResponse(bodies.no_api(path), status_code=404)
    invalid = kind.check(body, request.headers)
    if invalid is not None:
        return invalid
    runner: JobRunner = request.app.state.sim_runner
    # The generated files are served by the simulator itself (app/simulator/media.py).
    media = f"{str(request.base_url).rstrip('/')}/media/"
    return await runner.submit(kind, body, rule.callback if rule is not None else None, media)


def _token_matches(authorization: str, request: Request) -> bool:
    scheme, _, credential = authorization.partition(" ")
    token: str = request.app.state.sim_token
    return scheme.lower() == "bearer" and hmac.compare_digest(
        credential.strip().encode(), token.encode()
    )


def _decode(raw: bytes) -> Any:
    """The JSON body, or the raw text when it is not JSON (recorded either way)."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _scripted(respond: Respond) -> Response:
    if respond.text is not None:
        return Response(
            respond.text,
            status_code=respond.status,
            headers=respond.headers,
            media_type="text/plain",
        )
    if respond.body is None:
        return Response(status_code=respond.status, headers=respond.headers)
    return JSONResponse(respond.body, status_code=respond.status, headers=respond.headers)
