"""The inspector's part of the runtime: session signing, the sign-in throttle, live fan-out,
the search indexer."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.inspector.auth import LoginThrottle, Sessions
from app.inspector.indexer import Indexer
from app.inspector.live import Broadcaster
from app.keys import Keys
from app.tasks.waiting import Waiters


@dataclass(frozen=True, slots=True)
class Inspector:
    sessions: Sessions
    logins: LoginThrottle
    live: Broadcaster
    indexer: Indexer


def build(
    settings: Settings,
    keys: Keys,
    waiters: Waiters,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Inspector:
    return Inspector(
        sessions=Sessions(settings, keys.callback_secret),
        logins=LoginThrottle(),
        live=Broadcaster(waiters),
        indexer=Indexer(sessionmaker),
    )
