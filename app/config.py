"""Settings, read once from the environment (prefix FISHHOOK_) and from .env."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy import make_url

DEFAULT_ACEDATA_BASE_URL = "https://api.acedata.cloud"
_PLACEHOLDERS = frozenset({"changeme", "change-me", "secret", "changethis", "whsec_changeme"})


def asyncpg_url(value: str, *, dsn: bool = False) -> str:
    """The database URL as SQLAlchemy takes it (postgresql+asyncpg://) or, with `dsn`, as
    asyncpg.connect takes it (postgresql://). postgres:// and postgresql:// URLs (as hosting
    providers hand them out) mean asyncpg, the one driver fishhook ships; any other driver
    is refused by name."""
    url = make_url(value)
    if url.drivername not in ("postgres", "postgresql", "postgresql+asyncpg"):
        raise ValueError(f"must be a postgresql+asyncpg:// URL, not {url.drivername}://")
    driver = "postgresql" if dsn else "postgresql+asyncpg"
    return url.set(drivername=driver).render_as_string(hide_password=False)


def listening_url(host: str, port: int) -> str:
    """The URL at which this machine reaches a service listening on host:port (a wildcard
    address is reached on loopback)."""
    host = "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104
    host = "[::1]" if host == "::" else f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FISHHOOK_",
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
        # A refused value is not echoed: it may be a secret or a URL with a password.
        hide_input_in_errors=True,
    )

    database_url: str | None = None
    data_dir: Path = Path(".fishhook")

    acedata_base_url: str = DEFAULT_ACEDATA_BASE_URL
    acedata_token: SecretStr | None = None
    acedata_connect_timeout: float = Field(default=5.0, gt=0)
    acedata_read_timeout: float = Field(default=30.0, gt=0)

    public_url: str = "http://127.0.0.1:8000"
    callback_secret: SecretStr | None = None
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    relay_secret: SecretStr | None = None

    max_body_bytes: int = Field(default=262_144, gt=0)
    # Request line and headers together; over it: 431, nothing stored (DESIGN.md section 7).
    max_header_bytes: int = Field(default=32_768, gt=0)
    # A client has this long to send a request's head once it started, and as long again for
    # its body: slower ones are answered 408 and disconnected.
    client_timeout: float = Field(default=10.0, gt=0)
    # Open connections per worker; one more is answered 503 and closed.
    max_connections: int = Field(default=1024, ge=1)
    reconcile_after: float = Field(default=120, ge=0)
    task_timeout: float = Field(default=1800, gt=0)
    reconcile_interval: float = Field(default=15, gt=0)
    upstream_retry_budget: float = Field(default=20, ge=0)
    # The first retry waits up to this long (full jitter); each later one up to twice as long.
    upstream_backoff_base: float = Field(default=0.5, gt=0)
    idempotency_ttl: float = Field(default=86_400, gt=0)
    relay_backoff_base: float = Field(default=5, gt=0)
    relay_max_age: float = Field(default=259_200, gt=0)
    relay_backoff_max: float = Field(default=21_600, gt=0)
    relay_interval: float = Field(default=1.0, gt=0)
    relay_timeout: float = Field(default=10.0, gt=0)
    relay_batch: int = Field(default=20, ge=1)
    relay_allow_private: bool = False
    # False: this process sends no relays (another one does); the outbox keeps them.
    relay_enabled: bool = True
    delivery_retention_days: float = Field(default=30, gt=0)
    # Seconds between retention sweeps of every table (app/retention.py).
    delivery_prune_interval: float = Field(default=3600, gt=0)
    relay_retention_days: float = Field(default=30, gt=0)
    # Seconds between two /fish/tasks lookups, across every process sharing the database.
    reconcile_pace: float = Field(default=1.0, gt=0)
    # Tasks per /fish/tasks lookup (AceData takes at most 50).
    reconcile_batch: int = Field(default=50, ge=1, le=50)
    # /fish/* without async or callback_url blocks until the task finishes, as AceData does;
    # this bounds the wait (under the 300 s timeout of AceData's SDK, which re-sends after it).
    fish_wait_timeout: float = Field(default=280, gt=0)
    # The audio archive (app/archive): file:///path, s3://bucket/prefix, or none; unset:
    # file://{DATA_DIR}/archive. See archive_target.
    archive_url: str | None = None
    archive_s3_endpoint_url: str | None = None
    # Cover images and samples come as paths ("coverimage/<id>"): resolved against this.
    archive_media_base_url: str = "https://public-platform.r2.fish.audio/"
    archive_max_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    archive_timeout: float = Field(default=300, gt=0)
    archive_max_attempts: int = Field(default=6, ge=1)
    archive_backoff_base: float = Field(default=10, gt=0)
    archive_interval: float = Field(default=2.0, gt=0)
    archive_concurrency: int = Field(default=4, ge=1)
    archive_enabled: bool = True
    archive_delete_with_task: bool = False
    archive_prune_interval: float = Field(default=600, gt=0)
    # The inspector: how long a browser stays signed in (seconds).
    ui_session_ttl: float = Field(default=43_200, gt=0)

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=0, ge=0, description="0: one per CPU core")
    # A worker whose event loop has not answered for this long is killed and replaced; one
    # that has not finished starting after worker_start_timeout too (generous: it takes no
    # connections until it has started, and a slow start on a busy host is not a hang).
    worker_health_timeout: float = Field(default=60, gt=0)
    worker_start_timeout: float = Field(default=300, gt=0)
    db_pool_size: int = Field(default=10, ge=1)
    db_pool_timeout: float = Field(default=2.0, gt=0)
    # Single statements (status reads, a submit's two writes) have a pool of their own
    # (app/statements.py); a read queues a little longer than a new submit before it is
    # answered 503 with Retry-After.
    db_read_pool_size: int = Field(default=5, ge=1)
    db_read_pool_timeout: float = Field(default=5.0, gt=0)
    # Group commit of callbacks, per worker: concurrent writers, deliveries per statement,
    # and how many may wait before new ones are answered 503.
    intake_writers: int = Field(default=2, ge=1)
    intake_max_batch: int = Field(default=200, ge=1)
    intake_max_waiting: int = Field(default=5000, ge=1)
    shutdown_timeout: int = Field(default=20, ge=0)
    log_level: str = "info"
    # json: one JSON object per line; console: for people. Unset: console on a terminal.
    log_format: Literal["json", "console"] | None = None
    metrics_refresh_interval: float = Field(default=5.0, gt=0)
    opentelemetry: bool = False
    simulator_port: int = 8100

    @property
    def archive_target(self) -> str | None:
        """Where the archive lives, or None when FISHHOOK_ARCHIVE_URL=none."""
        if self.archive_url is None:
            return (self.data_dir.resolve() / "archive").as_uri()
        return None if self.archive_url.strip().lower() == "none" else self.archive_url

    @property
    def connection_settings(self) -> dict[str, str]:
        """What every connection that writes tasks tells PostgreSQL: with the archive off,
        the trigger that notes a succeeded task's files keeps none (migration 0012)."""
        return {"fishhook.archive": "off"} if self.archive_target is None else {}

    @model_validator(mode="after")
    def public_url_follows_host_and_port(self) -> "Settings":
        """Unset FISHHOOK_PUBLIC_URL: callbacks come to the address the service listens on
        (a wildcard address is reached on loopback)."""
        if "public_url" not in self.model_fields_set:
            self.public_url = listening_url(self.host, self.port)
            self.model_fields_set.discard("public_url")  # still derived, not set
        return self

    @field_validator("api_keys", mode="before")
    @classmethod
    def split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator("callback_secret", "relay_secret")
    @classmethod
    def refuse_weak_secrets(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            secret = value.get_secret_value()
            if len(secret) < 16 or secret.lower() in _PLACEHOLDERS:
                raise ValueError("must be a real secret of at least 16 characters")
        return value

    @field_validator("archive_url")
    @classmethod
    def archive_scheme(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() == "none":
            return value
        if value.startswith("file:///") or (value.startswith("s3://") and len(value) > 5):
            return value
        raise ValueError("must be file:///absolute/path, s3://bucket/prefix or none")

    @field_validator("database_url")
    @classmethod
    def use_asyncpg(cls, value: str | None) -> str | None:
        return None if value is None else asyncpg_url(value)

    @field_validator("public_url", "acedata_base_url")
    @classmethod
    def strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


@lru_cache
def get_settings() -> Settings:
    return Settings()
