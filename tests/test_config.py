import pytest
from pydantic import ValidationError

from app.config import Settings


def test_api_keys_are_read_comma_separated_and_stay_secret():
    settings = Settings(_env_file=None, api_keys="k-alpha, k-beta,,k-gamma")
    assert [k.get_secret_value() for k in settings.api_keys] == ["k-alpha", "k-beta", "k-gamma"]
    assert "k-alpha" not in repr(settings)


@pytest.mark.parametrize("value", ["changeme", "short"])
def test_placeholder_callback_secret_is_refused(value):
    with pytest.raises(ValidationError):
        Settings(_env_file=None, callback_secret=value)


def test_empty_environment_values_mean_unset(monkeypatch):
    monkeypatch.setenv("FISHHOOK_CALLBACK_SECRET", "")
    monkeypatch.setenv("FISHHOOK_ACEDATA_TOKEN", "")
    settings = Settings(_env_file=None)
    assert settings.callback_secret is None
    assert settings.acedata_token is None


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+asyncpg"])
def test_plain_postgres_urls_mean_asyncpg(scheme):
    settings = Settings(_env_file=None, database_url=f"{scheme}://app:p%40ss@db:5432/hooks")
    assert settings.database_url == "postgresql+asyncpg://app:p%40ss@db:5432/hooks"


def test_another_driver_is_refused_by_name_without_echoing_the_password():
    with pytest.raises(ValidationError, match="postgresql\\+psycopg://") as refused:
        Settings(_env_file=None, database_url="postgresql+psycopg://app:hunter2@db/hooks")
    assert "hunter2" not in str(refused.value)


def test_a_refused_secret_is_not_echoed():
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, relay_secret="short-secret")
    assert "short-secret" not in str(refused.value)


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8765, "http://127.0.0.1:8765"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),
        ("::", 9000, "http://[::1]:9000"),
        ("fishhook.internal", 80, "http://fishhook.internal:80"),
    ],
)
def test_an_unset_public_url_follows_host_and_port(host, port, url):
    assert Settings(_env_file=None, host=host, port=port).public_url == url


def test_an_unset_public_url_follows_fishhook_port_from_the_environment(monkeypatch):
    monkeypatch.setenv("FISHHOOK_PORT", "8765")
    assert Settings(_env_file=None).public_url == "http://127.0.0.1:8765"


def test_a_set_public_url_is_kept(monkeypatch):
    monkeypatch.setenv("FISHHOOK_PORT", "8765")
    monkeypatch.setenv("FISHHOOK_PUBLIC_URL", "https://hooks.example.com/")
    assert Settings(_env_file=None).public_url == "https://hooks.example.com"
