"""Where relays may go: http(s) to public addresses only, unless private ones are allowed."""

import ipaddress

import pytest

from app import url_safety as safety
from app.config import Settings
from app.relay import sender
from tests.support.api import SPEECH


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The production default: private addresses refused."""
    return settings.model_copy(update={"relay_allow_private": False})


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fd00:ec2::254]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://[64:ff9b::7f00:1]/hook",  # NAT64 form of 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",  # NAT64 form of 169.254.169.254
        "http://[64:ff9b:1::a00:1]/hook",  # local-use NAT64
        "http://[2002:7f00:1::1]/hook",  # 6to4 form of 127.0.0.1
        "http://[2002:c0a8:1::1]/hook",  # 6to4 form of 192.168.0.1
        "http://[::7f00:1]/hook",  # IPv4-compatible 127.0.0.1
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",  # Teredo
        "http://192.0.0.9/hook",
        "http://192.88.99.1/hook",
        "http://198.18.0.1/hook",
        "http://[100::1]/hook",
        "http://[5f00::1]/hook",
        "http://[3fff::1]/hook",
        "http://[fec0::1]/hook",
    ],
)
async def test_private_callback_url_is_refused_at_submit_with_a_clear_422(client, acedata, url):
    answer = await client.post("/v1/speech", json={**SPEECH, "callback_url": url})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "unsafe_callback_url"
    assert "FISHHOOK_RELAY_ALLOW_PRIVATE" in problem["detail"]
    assert acedata.requests == []
    assert (await client.get("/v1/tasks")).json()["items"] == []


async def test_callback_url_must_be_http_or_https(client):
    answer = await client.post("/v1/speech", json={**SPEECH, "callback_url": "ftp://example.com/x"})
    assert answer.status_code == 422
    assert answer.json()["code"] == "validation_error"


async def test_public_address_is_allowed_and_pinned_for_the_connection():
    target = await safety.check("https://93.184.215.14:8443/hook?x=1", allow_private=False)
    url, headers, extensions = safety.pinned(target)
    assert str(url) == "https://93.184.215.14:8443/hook?x=1"
    assert headers == {"host": "93.184.215.14:8443"}
    assert extensions == {"sni_hostname": "93.184.215.14"}


async def test_private_addresses_pass_only_when_allowed():
    target = await safety.check("http://127.0.0.1/hook", allow_private=True)
    assert target.address is None


async def test_address_checked_again_at_send_time():
    answer = await sender.send(
        None,  # never reached: refused before any connection
        "http://127.0.0.1:1/hook",
        key=b"k",
        message_id="msg_1",
        body=b"{}",
        seconds=1,
        allow_private=False,
    )
    assert answer.status_code is None
    assert answer.error.startswith("unsafe_url")


def test_public_and_private_ranges():
    assert safety.is_public(ipaddress.ip_address("8.8.8.8"))
    assert safety.is_public(ipaddress.ip_address("2606:4700:4700::1111"))
    for private in ("127.0.0.1", "10.0.0.1", "100.64.0.1", "169.254.1.1", "224.0.0.1", "fe80::1"):
        assert not safety.is_public(ipaddress.ip_address(private))


async def test_a_dns_label_over_63_characters_is_422_not_500(client, acedata):
    url = f"https://{'a' * 64}.example.com/hook"
    answer = await client.post("/v1/speech", json={**SPEECH, "callback_url": url})
    assert answer.status_code == 422
    assert answer.json()["code"] == "unsafe_callback_url"
    assert acedata.requests == []


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8", "2606:4700:4700::1111", "1.1.1.1"],
)
def test_embedded_public_ipv4_addresses_stay_public(address):
    assert safety.is_public(ipaddress.ip_address(address))
