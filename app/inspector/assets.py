"""The inspector's CSS and JavaScript: read once, served from memory under a content hash,
so a browser keeps them for a year and still never runs a stale copy."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request, Response

STATIC = Path(__file__).parent / "static"
_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class Asset:
    content: bytes
    media_type: str
    etag: str


def _load() -> dict[str, Asset]:
    found = {}
    for path in sorted(STATIC.iterdir()):
        if path.suffix in _TYPES:
            content = path.read_bytes()
            digest = hashlib.sha256(content).hexdigest()[:12]
            found[path.name] = Asset(content, _TYPES[path.suffix], f'"{digest}"')
    return found


ASSETS = _load()


def url(name: str) -> str:
    return f"/ui/static/{name}?v={ASSETS[name].etag.strip(chr(34))}"


def serve(name: str, request: Request) -> Response:
    asset = ASSETS.get(name)
    if asset is None:
        return Response("not found", status_code=404, media_type="text/plain")
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "ETag": asset.etag,
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.content, media_type=asset.media_type, headers=headers)
