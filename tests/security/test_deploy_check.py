"""Django's deployment checklist passes with the production settings, and still catches a mistake."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def production_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "GETRESTO_", "AXES_"))}
    env.update(
        GETRESTO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(45)[:60],
        ALLOWED_HOSTS="bo.example.com",
        DATABASE_URL="postgres://getresto:not-a-real-password@db.example.com:5432/getresto",
        CELERY_BROKER_URL="redis://redis.example.com:6379/0",
        PUBLIC_URL="https://bo.example.com",
        HUBRISE_CLIENT_ID="123456789.clients.hubrise.com",
        HUBRISE_CLIENT_SECRET=secrets.token_hex(16),
        DEBUG="false",
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(overrides)
    return env


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_production_settings():
    result = check_deploy(production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_debug_is_left_on_in_production():
    result = check_deploy(production_env(DEBUG="true"))

    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


def test_check_deploy_warns_when_the_hubrise_client_secret_is_missing():
    result = check_deploy(production_env(HUBRISE_CLIENT_SECRET=""))

    assert result.returncode != 0
    assert "hubrise_sync.W001" in result.stdout + result.stderr
    assert "HUBRISE_CLIENT_SECRET is not set" in result.stdout + result.stderr
