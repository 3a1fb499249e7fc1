"""/docs and /redoc name only assets fishhook serves itself, and those are served, cached."""

import re

import pytest

from app.docs import ASSETS, IMMUTABLE


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_reference_only_local_assets(client, page):
    answer = await client.get(page)
    assert answer.status_code == 200
    html = answer.text
    assert not re.search(r"https?://", html), "the page would need the internet"
    referenced = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert referenced and all(url.startswith(ASSETS + "/") for url in referenced)
    for url in referenced:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["cache-control"] == IMMUTABLE
        assert len(asset.content) > 1000
    assert "/openapi.json" in html


async def test_assets_have_their_types_and_revalidate(client):
    script = await client.get(f"{ASSETS}/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    css = await client.get(f"{ASSETS}/swagger-ui.css")
    assert css.headers["content-type"].startswith("text/css")
    again = await client.get(
        f"{ASSETS}/swagger-ui.css", headers={"If-None-Match": css.headers["etag"]}
    )
    assert again.status_code == 304


async def test_an_unknown_asset_is_a_problem_404(client):
    answer = await client.get(f"{ASSETS}/nothing.js")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
