"""Who may use the inspector: sign-in with an API key, the signed session cookie, CSRF tokens,
and slowing down an address that keeps trying wrong keys.

The cookie holds a random session id and a fingerprint of the key used, signed and dated
(itsdangerous): no key, no server-side state. Removing a key from FISHHOOK_API_KEYS ends
the sessions it opened. Without API keys the UI is open, but still hands out a session, so
that its forms carry a CSRF token all the same.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import SecretStr

from app.config import Settings

COOKIE = "fishhook_ui"
OPEN = "open"  # the fingerprint of a session when no API keys are set

# Failed sign-ins from one address: the first FREE_FAILURES cost nothing; after that each
# failure locks the address out for twice as long as the last one, up to MAX_LOCKOUT.
FREE_FAILURES = 3
MAX_LOCKOUT = 60.0
FORGET_AFTER = 900.0


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    fingerprint: str


def _fingerprint(key: SecretStr) -> str:
    return hashlib.sha256(b"fishhook-ui:" + key.get_secret_value().encode()).hexdigest()[:16]


class Sessions:
    """Signs and reads the session cookie; derives each session's CSRF token."""

    def __init__(self, settings: Settings, callback_secret: bytes) -> None:
        # A key of its own, derived from the callback secret every process shares.
        self._key = hmac.new(callback_secret, b"fishhook inspector sessions", "sha256").digest()
        self._serializer = URLSafeTimedSerializer(self._key, salt="fishhook-ui-session")
        self._settings = settings
        self.secure = settings.public_url.startswith("https://")

    @property
    def required(self) -> bool:
        return bool(self._settings.api_keys)

    @property
    def lifetime(self) -> int:
        return int(self._settings.ui_session_ttl)

    def matching_key(self, presented: str) -> SecretStr | None:
        """The configured key equal to `presented`, compared in constant time against each."""
        given = presented.strip().encode()
        found = None
        for key in self._settings.api_keys:
            if hmac.compare_digest(given, key.get_secret_value().encode()):
                found = key
        return found

    def new(self, key: SecretStr | None) -> tuple[Session, str]:
        """A fresh session (for `key`, or open) and its cookie value."""
        session = Session(secrets.token_urlsafe(18), _fingerprint(key) if key else OPEN)
        return session, self._serializer.dumps([session.id, session.fingerprint])

    def read(self, cookie: str | None) -> Session | None:
        """The session in `cookie` if it is signed, not expired, and still valid for the keys."""
        if not cookie:
            return None
        try:
            sid, fingerprint = self._serializer.loads(cookie, max_age=self.lifetime)
        except (BadSignature, ValueError, TypeError):
            return None
        if not isinstance(sid, str) or not isinstance(fingerprint, str):
            return None
        if not self.required:
            return Session(sid, fingerprint)
        valid = {_fingerprint(key) for key in self._settings.api_keys}
        return Session(sid, fingerprint) if fingerprint in valid else None

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._key, b"csrf:" + session.id.encode(), "sha256").hexdigest()[:32]

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.csrf_token(session), token)


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last: float = 0.0


@dataclass
class LoginThrottle:
    """Wrong keys per client address, in this worker's memory."""

    _records: dict[str, _Record] = field(default_factory=dict)

    def wait(self, address: str) -> float:
        """Seconds before `address` may try again (0: now)."""
        record = self._records.get(address)
        return 0.0 if record is None else max(0.0, record.locked_until - time.monotonic())

    def failed(self, address: str) -> None:
        now = time.monotonic()
        self._forget_old(now)
        record = self._records.setdefault(address, _Record())
        record.failures += 1
        record.last = now
        extra = record.failures - FREE_FAILURES
        if extra > 0:
            record.locked_until = now + min(MAX_LOCKOUT, 2.0 ** (extra - 1))

    def succeeded(self, address: str) -> None:
        self._records.pop(address, None)

    def _forget_old(self, now: float) -> None:
        if len(self._records) > 10_000:
            self._records.clear()  # bounded memory whatever an attacker does
        for address in [a for a, r in self._records.items() if now - r.last > FORGET_AFTER]:
            del self._records[address]
