"""schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by test_schemathesis.py).

A schema-valid `callback_url` is any http(s) URL; fishhook would relay the finished task
there. Generated hosts are random names that may exist on the internet, so each one is
pointed at the local receiver (FISHHOOK_ST_RELAY_URL) before the request is sent. A
schema-invalid value (a number, a non-http scheme) is left as generated.
"""

import os
import re
from typing import Any

import schemathesis

from app.openapi import HTTP_URL

_HTTP_URL = re.compile(HTTP_URL)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    body = case.body
    url = body.get("callback_url") if isinstance(body, dict) else None
    if isinstance(url, str) and _HTTP_URL.match(url):
        body["callback_url"] = os.environ["FISHHOOK_ST_RELAY_URL"]
