"""docker-compose and the image build: a deployment cannot start open or with a default
database password, and the build context holds no local state."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_requires_api_keys_and_a_database_password():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${FISHHOOK_API_KEYS:?" in text
    assert "${POSTGRES_PASSWORD:-" not in text
    for service in _compose()["services"].values():
        for value in (service.get("environment") or {}).values():
            if "POSTGRES_PASSWORD" in str(value):
                assert "${POSTGRES_PASSWORD:?" in value


def test_compose_publishes_the_port_on_loopback_only():
    ports = _compose()["services"]["fishhook"]["ports"]
    assert all(str(p).startswith("127.0.0.1:") for p in ports)


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".venv", ".fishhook", ".git", ".env"):
        assert entry in ignored
