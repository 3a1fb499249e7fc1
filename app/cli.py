"""The `fishhook` command: serve, migrate, simulator."""

import argparse
import os
import socket
import subprocess
import sys
import time
from typing import Any

from app.config import DEFAULT_ACEDATA_BASE_URL, Settings, get_settings, listening_url
from app.embedded_db import database_url
from app.http_protocol import uvicorn_options
from app.log import configure_logging, get_logger
from app.metrics.multiproc import metrics_directory
from app.migrate import upgrade

log = get_logger("fishhook.cli")

SIMULATOR_TOKEN = "simulator-token"  # noqa: S105 (a fake upstream's fake token)


def _wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the AceData simulator did not start on port {port}")


def simulator_command(port: int, token: str) -> list[str]:
    """The command line that runs the AceData simulator (here, and in the benchmark)."""
    return [sys.executable, "-m", "app.cli", "simulator", "--port", str(port), "--token", token]


def _start_simulator(port: int) -> subprocess.Popen[bytes]:
    # S603: our own interpreter and module.
    simulator = subprocess.Popen(simulator_command(port, SIMULATOR_TOKEN))  # noqa: S603
    _wait_for_port(port)
    os.environ["FISHHOOK_ACEDATA_BASE_URL"] = f"http://127.0.0.1:{port}"
    os.environ["FISHHOOK_ACEDATA_TOKEN"] = SIMULATOR_TOKEN
    return simulator


def wants_simulator(has_token: bool, base_url: str, database_url: str | None) -> bool:
    """Only local use (no token, default base URL, embedded database) gets the simulator: a
    deployment that merely lacks its token must refuse submits, not return fake results."""
    return not has_token and base_url == DEFAULT_ACEDATA_BASE_URL and database_url is None


def _listen_env(args: argparse.Namespace) -> dict[str, str]:
    given = {"FISHHOOK_HOST": args.host, "FISHHOOK_PORT": args.port}
    return {name: str(value) for name, value in given.items() if value}


def _public_url(args: argparse.Namespace, settings: Settings) -> str:
    if "public_url" in settings.model_fields_set:
        return settings.public_url
    return listening_url(args.host or settings.host, args.port or settings.port)


def worker_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    """Every uvicorn.Config keyword of a worker, in one place: the request limits of
    app.http_protocol included (its protocol class replaces plain httptools)."""
    return {
        "app": "app.main:serve_app",
        "factory": True,
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,
        "log_config": None,
        "timeout_graceful_shutdown": settings.shutdown_timeout,
    } | uvicorn_options(settings)


def prepare_workers(url: str, args: argparse.Namespace) -> None:
    """What every worker process must inherit, set before the first one starts (workers
    are spawned: they read their settings from this process's environment; `serve` has
    set PROMETHEUS_MULTIPROC_DIR already)."""
    os.environ["FISHHOOK_DATABASE_URL"] = url
    # --host/--port too, so that an unset FISHHOOK_PUBLIC_URL follows them
    # (config.Settings.public_url_follows_host_and_port).
    os.environ.update(_listen_env(args))


def serve(args: argparse.Namespace) -> None:
    # Before anything imports prometheus-client: it picks multiprocess mode on import.
    with metrics_directory():
        _serve(args)


def _serve(args: argparse.Namespace) -> None:
    from app.supervisor import Supervisor

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    use_simulator = wants_simulator(
        settings.acedata_token is not None, settings.acedata_base_url, settings.database_url
    )
    if use_simulator:
        log.warning(
            "acedata_simulator",
            detail="FISHHOOK_ACEDATA_TOKEN is not set, so jobs go to the built-in AceData "
            "simulator (no real voices or audio). Set FISHHOOK_ACEDATA_TOKEN to use AceData.",
            url=f"http://127.0.0.1:{settings.simulator_port}",
        )
    elif settings.acedata_token is None:
        log.error(
            "acedata_not_configured",
            detail="FISHHOOK_ACEDATA_TOKEN is not set; submits answer 503 "
            "acedata_not_configured until it is (the simulator only starts for local use, "
            "with the embedded database)",
        )
    if settings.database_url is None:
        log.info(
            "embedded_postgres",
            data_dir=str(settings.data_dir),
            detail="set FISHHOOK_DATABASE_URL to use a server",
        )
    url = database_url(settings.database_url, settings.data_dir)
    upgrade(url)
    log.info("migrations_applied")
    simulator = _start_simulator(settings.simulator_port) if use_simulator else None
    if use_simulator:
        # The simulator serves its generated files itself (its voice bodies name them by path).
        media = f"http://127.0.0.1:{settings.simulator_port}/media/"
        os.environ.setdefault("FISHHOOK_ARCHIVE_MEDIA_BASE_URL", media)
    prepare_workers(url, args)
    get_settings.cache_clear()
    host, port = args.host or settings.host, args.port or settings.port
    workers = args.workers or settings.workers or os.cpu_count() or 1
    log.info("serving", host=host, port=port, workers=workers)
    log.info("callbacks_public_url", url=_public_url(args, settings), setting="FISHHOOK_PUBLIC_URL")
    supervisor = Supervisor(
        worker_options(settings, host, port),
        workers=workers,
        health_timeout=settings.worker_health_timeout,
        start_timeout=settings.worker_start_timeout,
        shutdown_timeout=settings.shutdown_timeout,
    )
    try:
        status = supervisor.run()
    finally:
        if simulator is not None:
            simulator.terminate()
            simulator.wait(10)
    if status:
        raise SystemExit(status)


def migrate(_: argparse.Namespace) -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    upgrade(database_url(settings.database_url, settings.data_dir))
    log.info("migrations_applied")


def simulator(args: argparse.Namespace) -> None:
    from app.simulator.app import run

    run(host=args.host, port=args.port, token=args.token, delay=args.delay)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fishhook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="apply migrations, then run the service")
    serve_cmd.add_argument("--host")
    serve_cmd.add_argument("--port", type=int)
    serve_cmd.add_argument(
        "--workers", type=int, help="default: FISHHOOK_WORKERS, else one per core"
    )
    serve_cmd.set_defaults(run=serve)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=migrate)
    sim_cmd = commands.add_parser("simulator", help="run the fake AceData API")
    sim_cmd.add_argument("--host", default="127.0.0.1")
    sim_cmd.add_argument("--port", type=int, default=8100)
    sim_cmd.add_argument("--token", default=SIMULATOR_TOKEN)
    sim_cmd.add_argument("--delay", type=float, default=1.0, help="seconds before each callback")
    sim_cmd.set_defaults(run=simulator)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
