"""/_sim/*: what tests read (requests, callbacks, jobs) and how they script faults (rules)."""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from app.simulator.rules import Rule
from app.simulator.state import SimState

router = APIRouter(prefix="/_sim")


def get_state(request: Request) -> SimState:
    state: SimState = request.app.state.sim_state
    return state


StateDep = Annotated[SimState, Depends(get_state)]


@router.get("/requests")
async def list_requests(state: StateDep) -> dict[str, Any]:
    return {"items": [asdict(recorded) for recorded in state.requests]}


@router.get("/callbacks")
async def list_callbacks(state: StateDep) -> dict[str, Any]:
    return {"items": [asdict(attempt) for attempt in state.callbacks]}


@router.get("/jobs")
async def list_jobs(state: StateDep) -> dict[str, Any]:
    return {"items": [job.record() for job in state.jobs.values()]}


@router.post("/reset")
async def reset(state: StateDep, request: Request) -> dict[str, Any]:
    state.reset()
    request.app.state.media.reset()
    return {"ok": True}


@router.get("/rules")
async def list_rules(state: StateDep) -> dict[str, Any]:
    return {"items": [rule.model_dump() for rule in state.rules]}


@router.post("/rules")
async def add_rule(rule: Rule, state: StateDep) -> dict[str, Any]:
    state.rules.append(rule)
    return {"index": len(state.rules) - 1, "rule": rule.model_dump()}


@router.delete("/rules")
async def clear_rules(state: StateDep) -> dict[str, Any]:
    state.rules.clear()
    return {"ok": True}
