"""A fake AceData Fish API for local runs and tests: jobs, callbacks, recordings and fault rules."""

from app.simulator.app import create_simulator_app, run

__all__ = ["create_simulator_app", "run"]
