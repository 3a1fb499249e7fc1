"""The /fish sub-application: its own routes and AceData-shaped error handlers, so /v1 and
the rest keep problem+json. It shares the parent's state (the runtime) and middleware."""

from fastapi import FastAPI

from app.fish import errors
from app.fish.router import router


def mount(parent: FastAPI) -> None:
    """Serve the AceData-compatible API under /fish on `parent`."""
    fish = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    # The runtime lives on the parent's state (set in its lifespan): share that object.
    fish.state = parent.state
    errors.install(fish)
    fish.include_router(router)
    parent.mount("/fish", fish)
