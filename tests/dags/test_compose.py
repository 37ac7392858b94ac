"""docker-compose.yml and the Dockerfile, checked by reading them (no Docker engine can run here)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from dataclasses import fields

import yaml

from tbtwatch import settings as settings_module
from tests.dags.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
DOCKERFILE = (REPO / "docker" / "Dockerfile").read_text(encoding="utf-8")
AIRFLOW = {"airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
           "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer"}


def tbtwatch_setting_names() -> set[str]:
    """Every environment variable tbtwatch.settings reads."""
    names = set(settings_module._ALIASES) | {"TBTWATCH_CONFIG"}
    root = settings_module.Settings()
    for section in fields(root):
        value = getattr(root, section.name)
        if hasattr(value, "__dataclass_fields__"):
            names |= {f"TBTWATCH_{section.name.upper()}_{f.name.upper()}" for f in fields(value)}
    return names


def test_services_of_the_production_shape():
    services = COMPOSE["services"]
    assert {"postgres", "elasticsearch", "mailpit", "web", "airflow-init", *AIRFLOW} <= set(services)
    for name, command in AIRFLOW.items():
        assert services[name]["command"] == command
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert services["postgres"]["image"] == "postgres:16"
    assert services["elasticsearch"]["image"].startswith("docker.elastic.co/elasticsearch/elasticsearch:${ES_VERSION:-9.")
    assert services["elasticsearch"]["environment"]["discovery.type"] == "single-node"
    assert "xpack.security.enabled" in services["elasticsearch"]["environment"]
    assert services["mailpit"]["image"].startswith("axllent/mailpit:")


def test_every_long_running_service_has_a_healthcheck():
    for name, service in COMPOSE["services"].items():
        if name == "airflow-init":
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in {"CMD", "CMD-SHELL"}, name


def test_airflow_runs_local_executor_on_postgres_with_shared_secrets():
    env = COMPOSE["services"]["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://airflow:")
    assert "@postgres/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
        assert env[key].startswith("${") and ":?" in env[key], f"{key} must come from .env, not the file"


def test_every_tbtwatch_variable_is_a_setting_and_secrets_come_from_env():
    known = tbtwatch_setting_names()
    for name, service in COMPOSE["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if key.startswith("TBTWATCH_"):
                assert key in known, f"{name}: {key} is not a tbtwatch setting"
                if re.search(r"PASSWORD|SECRET|API_KEY", key):
                    assert str(value).startswith("${"), f"{name}: {key} is written into the file"
    example = (REPO / "docker" / "env.example").read_text(encoding="utf-8")
    for key in re.findall(r"^(TBTWATCH_[A-Z_]+)=", example, re.M):
        assert key in known, f"docker/env.example: {key} is not a tbtwatch setting"


def test_web_app_and_airflow_share_the_data_volume():
    volume = "tbtwatch-data:/data/tbtwatch"
    assert volume in COMPOSE["services"]["web"]["volumes"]
    assert volume in COMPOSE["services"]["airflow-scheduler"]["volumes"]
    assert COMPOSE["services"]["web"]["environment"]["TBTWATCH_HOME"] == "/data/tbtwatch"


def test_the_daily_run_yields_the_cpu_to_the_web_app():
    """The scheduler runs the tasks (LocalExecutor): a lower CPU weight than the web's default 1024."""
    services = COMPOSE["services"]
    assert COMPOSE["x-airflow-common"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert services["airflow-scheduler"]["cpu_shares"] < services["web"].get("cpu_shares", 1024)


def test_dockerfile_installs_the_lock_then_the_project():
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11$", DOCKERFILE, re.M)
    lock = DOCKERFILE.index("pip install --no-cache-dir -r requirements.lock")
    project = DOCKERFILE.index("pip install --no-cache-dir --no-deps -e .")
    assert lock < project
    for path in re.findall(r"^COPY --chown=\S+ (\S+)", DOCKERFILE, re.M):
        for part in path.split():
            assert (REPO / part).exists(), f"the Dockerfile copies {part}, which is not in the repository"
    assert "apache-airflow==3.3.2" in (REPO / "requirements.lock").read_text(encoding="utf-8")


def test_dockerfile_copies_every_package_the_project_installs():
    packages = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    included = packages["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = set(re.findall(r"^COPY --chown=\S+ (\S+) \./\1$", DOCKERFILE, re.M))
    missing = {pattern.rstrip("*") for pattern in included} - copied
    assert not missing, f"the image installs the project without {sorted(missing)}: add a COPY line for each"


def test_hs_nomenclature_is_mounted_where_the_default_setting_points():
    mount = "${HS_NOMENCLATURE_DIR:-../shared/data/hs}:/opt/shared/data/hs:ro"
    for service in ("airflow-scheduler", "web"):
        assert mount in COMPOSE["services"][service]["volumes"]
    default = settings_module.Paths().hs_nomenclature  # relative to the project root, /opt/tbtwatch in the image
    assert (Path("/opt/tbtwatch") / default).resolve().as_posix() == "/opt/shared/data/hs/harmonized-system.csv"


def test_the_configured_auth_manager_is_installed_by_the_lock():
    import importlib

    path = COMPOSE["x-airflow-common"]["environment"]["AIRFLOW__CORE__AUTH_MANAGER"]
    module, _, name = path.rpartition(".")
    assert getattr(importlib.import_module(module), name)
