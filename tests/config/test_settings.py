import datetime as dt
import os
import subprocess
import sys
import zoneinfo
from pathlib import Path

from django.conf import settings

from config.celery_app import app as celery_app
from core.zones import clinic_zone

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "k" * 20 + "-production-like-secret-key-of-sufficient-length-0123",
    "ALLOWED_HOSTS": "clinic.example.com",
    "HEALTH_DATA_KEYS": "dGVzdC1zdWl0ZS1vbmx5LWtleS1ub3QtYS1zZWNyZXQ=",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Only what a production host would have: none of the test process's variables.
    base = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deploy_check_with_no_warnings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "ALLOWED_HOSTS"}

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert "Set the ALLOWED_HOSTS environment variable" in result.stderr


def test_celery_speaks_only_json_and_acknowledges_after_the_work() -> None:
    conf = celery_app.conf

    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_ignore_result is True
    assert conf.task_time_limit > conf.task_soft_time_limit > 0


def test_every_scheduled_job_names_a_registered_task() -> None:
    celery_app.loader.import_default_modules()

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks


def test_no_error_report_is_ever_mailed() -> None:
    assert settings.ADMINS == []
    handlers = {
        name: logger.get("handlers", [])
        for name, logger in settings.LOGGING["loggers"].items()
    }
    assert all("mail_admins" not in h for h in handlers.values())


def test_every_time_zone_comes_from_the_pinned_tzdata_not_the_host() -> None:
    # Django's own zones (timezone.localtime, the admin) read no host database, so
    # they agree with core.zones, which the slots and emails use.
    assert zoneinfo.TZPATH == ()
    moment = dt.datetime(2027, 3, 28, 1, 30, tzinfo=dt.UTC)  # Berlin moves at 01:00
    for name in ("Europe/Berlin", settings.TIME_ZONE):
        assert (
            moment.astimezone(zoneinfo.ZoneInfo(name)).utcoffset()
            == moment.astimezone(clinic_zone(name)).utcoffset()
        )
