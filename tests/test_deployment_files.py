"""docker-compose.yml, the Dockerfile, .env.example and the docs must agree.

No Docker engine runs where the tests run, so these files are kept honest here.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("migrate", "web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def _settings_variables() -> set[str]:
    source = "\n".join(p.read_text() for p in (ROOT / "config/settings").glob("*.py"))
    pattern = r'env\.(?:str|bool|int|list|dict|path|db_url|email_url)\(\s*"([A-Z_]+)"'
    return set(re.findall(pattern, source))


def _env_example_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?([A-Z_]+)=", text, flags=re.MULTILINE))


def test_every_setting_read_from_the_environment_is_documented() -> None:
    variables = _settings_variables()
    readme = (ROOT / "README.md").read_text()

    assert variables, "no settings variables found: the pattern is stale"
    assert variables - _env_example_variables() == set()
    assert {v for v in variables if f"`{v}`" not in readme} == set()


def test_compose_app_services_use_only_documented_variables(
    compose: dict[str, Any],
) -> None:
    documented = _env_example_variables()

    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        assert set(environment) - documented == set(), name
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"


def test_every_long_running_compose_service_has_a_health_check(
    compose: dict[str, Any],
) -> None:
    for name, service in compose["services"].items():
        if name != "migrate":
            assert "healthcheck" in service, name


def test_every_long_running_compose_service_is_restarted_when_it_exits(
    compose: dict[str, Any],
) -> None:
    # A worker or beat that dies while Redis is away (docs/architecture.md, "When
    # Redis goes away") must come back without someone at the console.
    for name, service in compose["services"].items():
        if name == "migrate":
            assert service["restart"] == "no", name  # a one-off: runs, exits, done
        else:
            assert service.get("restart") in {"unless-stopped", "always"}, name


def test_compose_stack_has_web_worker_beat_database_broker_and_mail_catcher(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]

    assert {"web", "worker", "beat", "postgres", "redis", "mailpit"} <= set(services)
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert set(compose["volumes"]) >= {"postgres-data", "redis-data"}


def test_compose_web_runs_the_image_command_which_is_gunicorn(
    compose: dict[str, Any],
) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "command" not in compose["services"]["web"]
    assert re.search(r'^CMD \["gunicorn", "config.wsgi:application"', dockerfile, re.M)


def test_the_image_installs_the_same_uv_as_make() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()

    make_version = re.search(r"^UV_VERSION := (\S+)$", makefile, re.M)
    assert make_version is not None
    assert f'"uv=={make_version.group(1)}"' in dockerfile
