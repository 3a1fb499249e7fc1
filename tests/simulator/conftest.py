"""The `sim` fixture: a simulator with its lifespan running and callbacks going to a Receiver."""

from collections.abc import AsyncIterator

import httpx
import pytest

from app.simulator import create_simulator_app
from tests.support.receiver import Receiver
from tests.support.simulator import TOKEN, SimEnv


@pytest.fixture
async def sim() -> AsyncIterator[SimEnv]:
    receiver = Receiver(answers={"/fail": 500})
    app = create_simulator_app(
        token=TOKEN,
        callback_delay=0.01,
        callback_transport=httpx.ASGITransport(app=receiver),
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as client:
            yield SimEnv(client, receiver)
