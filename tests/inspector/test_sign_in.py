"""Signing in to the inspector with an API key: redirects, the cookie, wrong keys, sign-out."""

import re

import pytest
from pydantic import SecretStr

KEY = "inspector-test-key-0123456789"


@pytest.fixture
async def keyed(serve):
    async with serve(api_keys=[SecretStr(KEY)]) as (_app, client):
        yield client


async def test_pages_redirect_to_sign_in_with_303_when_keys_are_set(keyed):
    for path in ("/", "/ui/tasks", "/ui/deliveries?q=x", "/ui/tasks/tsk_x", "/ui/deliveries/dlv_x"):
        answer = await keyed.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/ui/login"), path
    assert (await keyed.get("/ui/tasks")).headers["location"] == "/ui/login?next=%2Fui%2Ftasks"
    assert (await keyed.get("/ui/events")).status_code == 401
    login = await keyed.get("/ui/login")
    assert login.status_code == 200
    assert 'type="password"' in login.text
    assert "Open access" not in login.text


async def test_a_wrong_key_gets_a_clear_message_and_the_right_one_a_secure_session(keyed):
    wrong = await keyed.post("/ui/login", data={"key": "not-the-key"})
    assert wrong.status_code == 200
    assert "not one of this service" in wrong.text
    assert "not-the-key" not in wrong.text
    assert "set-cookie" not in wrong.headers

    right = await keyed.post("/ui/login", data={"key": KEY, "next": "/ui/tasks"})
    assert right.status_code == 303
    assert right.headers["location"] == "/ui/tasks"
    cookie = right.headers["set-cookie"].lower()
    for attribute in ("httponly", "samesite=strict", "max-age=43200", "path=/"):
        assert attribute in cookie, attribute
    assert "secure" not in cookie  # the public URL is http here
    assert KEY.lower() not in cookie

    page = await keyed.get("/")
    assert page.status_code == 200
    assert KEY not in page.text
    assert "Sign out" in page.text


async def test_the_session_cookie_is_secure_when_the_public_url_is_https(serve):
    settings = {
        "api_keys": [SecretStr(KEY)],
        "public_url": "https://fishhook.example",
        "ui_session_ttl": 600,
    }
    async with serve(**settings) as (_, client):
        cookie = (await client.post("/ui/login", data={"key": KEY})).headers["set-cookie"]
    assert "; secure" in cookie.lower() and "max-age=600" in cookie.lower()


async def test_sign_in_never_redirects_off_site(keyed):
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        answer = await keyed.post("/ui/login", data={"key": KEY, "next": target})
        assert answer.headers["location"] == "/", target


async def test_sign_out_needs_the_csrf_token_and_ends_the_session(keyed):
    await keyed.post("/ui/login", data={"key": KEY})
    page = (await keyed.get("/")).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert (await keyed.post("/ui/logout", data={"csrf": "forged"})).status_code == 403
    assert (await keyed.get("/")).status_code == 200

    out = await keyed.post("/ui/logout", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/ui/login"
    assert (await keyed.get("/")).status_code == 303


async def test_a_forged_or_stale_cookie_is_not_a_session(keyed, serve):
    keyed.cookies.set("fishhook_ui", "forged.value.here")
    assert (await keyed.get("/")).status_code == 303
    keyed.cookies.clear()
    # A session opened with a key that was then removed from FISHHOOK_API_KEYS ends too.
    await keyed.post("/ui/login", data={"key": KEY})
    cookie = keyed.cookies["fishhook_ui"]
    assert (await keyed.get("/")).status_code == 200
    async with serve(api_keys=[SecretStr("another-key-0123456789")]) as (_, other):
        other.cookies.set("fishhook_ui", cookie)
        assert (await other.get("/")).status_code == 303


async def test_repeated_wrong_keys_from_one_address_are_slowed(keyed):
    for _ in range(4):
        refused = await keyed.post("/ui/login", data={"key": "guess"})
        assert "not one of this service" in refused.text
    locked = await keyed.post("/ui/login", data={"key": KEY})
    assert locked.status_code == 429
    assert "Too many wrong keys" in locked.text
