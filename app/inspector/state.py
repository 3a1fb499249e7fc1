"""The inspector's part of the runtime: session signing, the sign-in throttle, live fan-out."""

from dataclasses import dataclass

from app.config import Settings
from app.inspector.auth import LoginThrottle, Sessions
from app.inspector.live import Broadcaster
from app.keys import Keys
from app.tasks.waiting import Waiters


@dataclass(frozen=True, slots=True)
class Inspector:
    sessions: Sessions
    logins: LoginThrottle
    live: Broadcaster


def build(settings: Settings, keys: Keys, waiters: Waiters) -> Inspector:
    return Inspector(
        sessions=Sessions(settings, keys.callback_secret),
        logins=LoginThrottle(),
        live=Broadcaster(waiters),
    )
