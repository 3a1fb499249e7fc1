"""AceData's documented bodies (tests/fixtures/acedata), by name."""

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "acedata"


def fixture(name: str) -> dict[str, Any]:
    """The body in `<name>.json`, freshly parsed (callers may change it)."""
    body: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return body
