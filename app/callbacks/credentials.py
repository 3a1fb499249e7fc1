"""Per-task callback URLs: an HMAC of the task id that nobody without the secret can forge."""

import base64
import hashlib
import hmac
from urllib.parse import urlencode

TASK_PARAM = "task"
TOKEN_PARAM = "token"  # noqa: S105 (a parameter name, not a secret)


def token_for(secret: bytes, task_ref: str) -> str:
    digest = hmac.new(secret, task_ref.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def callback_url(public_url: str, secret: bytes, task_ref: str) -> str:
    query = urlencode({TASK_PARAM: task_ref, TOKEN_PARAM: token_for(secret, task_ref)})
    return f"{public_url}/callbacks?{query}"


def verify(secret: bytes, task_ref: str | None, token: str | None) -> bool:
    return refusal(secret, task_ref, token) is None


def refusal(secret: bytes, task_ref: str | None, token: str | None) -> str | None:
    """Why the credential fails, in words for the log and the caller; None when it holds."""
    if not task_ref and not token:
        return f"the query has no callback credential (no {TASK_PARAM} and no {TOKEN_PARAM})"
    if not task_ref:
        return f"the query has a {TOKEN_PARAM} but no {TASK_PARAM}"
    if not token:
        return f"the query has no {TOKEN_PARAM}"
    expected = token_for(secret, task_ref).encode()
    if not hmac.compare_digest(expected, token.encode("utf-8", "replace")):
        return f"the {TOKEN_PARAM} is not the credential of {TASK_PARAM} {task_ref[:64]!r}"
    return None


def read(pairs: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """(task_ref, token) from a callback's query; a repeated parameter counts by its last value,
    for live callbacks and replays alike."""
    found = dict(pairs)
    return found.get(TASK_PARAM), found.get(TOKEN_PARAM)
