"""A tiny ASGI app under the real supervisor (tests/test_supervisor.py): it answers with
its pid, starts as slowly as SUPERVISED_START_DELAY says, and /hang blocks its event loop.

Run as `python -m tests.supervised_app PORT WORKERS HEALTH_TIMEOUT START_TIMEOUT`.
"""

import logging
import os
import sys
import time
from typing import Any

START_DELAY = float(os.environ.get("SUPERVISED_START_DELAY", "0"))


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                time.sleep(START_DELAY)  # a start-up that is slow, as heavy imports are
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["path"] == "/hang":
        time.sleep(3600)  # the event loop stops: a worker that really hangs
    body = str(os.getpid()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    from app.supervisor import Supervisor

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    health_timeout, start_timeout = float(sys.argv[3]), float(sys.argv[4])
    options = {"app": "tests.supervised_app:app", "host": "127.0.0.1", "port": port}
    options |= {"log_config": None, "lifespan": "on", "timeout_graceful_shutdown": 5}
    supervisor = Supervisor(
        options, workers=workers, health_timeout=health_timeout, start_timeout=start_timeout
    )
    sys.exit(supervisor.run())


if __name__ == "__main__":
    main()
