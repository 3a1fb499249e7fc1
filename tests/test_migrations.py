"""Models and migrations stay in step: upgrade, check, downgrade, upgrade on a fresh database."""

import asyncio
import secrets

from alembic import command
from sqlalchemy import make_url

from app.migrate import alembic_config
from tests.support.database import run_admin


def test_migrations_round_trip_and_match_the_models(server_url):
    name = f"fishhook_migrations_{secrets.token_hex(4)}"
    asyncio.run(run_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        config = alembic_config(
            make_url(server_url).set(database=name).render_as_string(hide_password=False)
        )
        command.upgrade(config, "head")
        command.check(config)
        command.downgrade(config, "base")
        command.upgrade(config, "head")
        command.check(config)
    finally:
        asyncio.run(run_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
