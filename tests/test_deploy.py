"""The scale-out recipe and the alert rules, checked without Docker: the compose file parsed
with PyYAML, HAProxy's config by `haproxy -c`, the alerts by `promtool` (each tool skipped,
saying so, when it is not installed; .ci/run installs them)."""

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
COMPOSE = DEPLOY / "compose.scale.yml"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def seconds(value: str) -> float:
    assert value.endswith("s"), value
    return float(value[:-1])


def test_replicas_publish_no_port_so_they_can_be_scaled():
    app = compose()["services"]["fishhook"]
    assert "ports" not in app
    assert app["expose"] == ["8000"]
    assert app["deploy"]["replicas"] == "${FISHHOOK_REPLICAS:-3}"


def test_replicas_are_health_checked_and_drained_before_they_are_killed():
    services = compose()["services"]
    app = services["fishhook"]
    assert "/readyz" in " ".join(app["healthcheck"]["test"])
    env = app["environment"]
    shutdown = float(env["FISHHOOK_SHUTDOWN_TIMEOUT"])
    # The drain (checks fail within 2 x 2 s) and the in-flight grace fit in Docker's.
    assert seconds(app["stop_grace_period"]) >= shutdown + 2 * 2 + 5
    assert services["proxy"]["depends_on"]["fishhook"]["condition"] == "service_healthy"
    assert env["FISHHOOK_LOG_FORMAT"] == "json"


def test_every_replica_gets_the_same_settings_and_they_are_real_ones():
    app = compose()["services"]["fishhook"]
    names = {name.removeprefix("FISHHOOK_").lower() for name in app["environment"]}
    assert names <= set(Settings.model_fields)
    for shared in ("callback_secret", "relay_secret", "api_keys", "database_url"):
        assert shared in names


def test_the_proxy_config_it_mounts_exists_and_checks_readiness():
    proxy = compose()["services"]["proxy"]
    [mount] = proxy["volumes"]
    source = DEPLOY / mount.split(":")[0]
    config = source.read_text()
    assert "option httpchk GET /readyz" in config
    assert "server-template app 10 fishhook:8000" in config
    assert "retry-on conn-failure" in config


@pytest.mark.skipif(
    shutil.which("haproxy") is None, reason="haproxy not installed (apt-get install haproxy)"
)
def test_haproxy_accepts_its_config():
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(DEPLOY / "haproxy.cfg")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _has_compose() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(
    not _has_compose(),
    reason="docker compose not installed: the compose file is checked by the tests above",
)
def test_docker_compose_accepts_the_recipe():
    env = {"FISHHOOK_ACEDATA_TOKEN": "x", "FISHHOOK_PUBLIC_URL": "https://hooks.example.com"}
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr


PROMTOOL = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool not installed (apt-get install prometheus; .ci/run does)",
)


@PROMTOOL
def test_promtool_accepts_the_alert_rules():
    result = subprocess.run(
        ["promtool", "check", "rules", str(DEPLOY / "prometheus" / "alerts.yml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@PROMTOOL
def test_the_alerts_fire_on_the_series_they_watch():
    result = subprocess.run(
        ["promtool", "test", "rules", "alerts_test.yml"],
        cwd=DEPLOY / "prometheus",
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_cover_what_an_operator_must_hear_about():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}
    watched = {
        "FishhookRelayBacklogGrowing": "fishhook_relay_backlog",
        "FishhookRelaysDead": 'result="dead"',
        "FishhookUnauthenticatedCallbacksRising": 'outcome="unauthenticated"',
        "FishhookOldestOpenTaskTooOld": "fishhook_tasks_open_oldest_age_seconds",
        "FishhookDatabasePoolSaturated": "fishhook_db_pool_checked_out",
        "FishhookErrorRate": 'status=~"5.."',
    }
    for alert, series in watched.items():
        assert series in alerts[alert]
