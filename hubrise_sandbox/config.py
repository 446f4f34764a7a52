"""Settings read from the environment, with strict parsing so a typo stops start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


class ConfigError(RuntimeError):
    pass


def _env_str(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return value


def _env_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {raw!r}")
    return value


@dataclass
class RateLimits:
    per_minute: int = 500
    per_hour: int = 2500
    per_day: int = 10000
    heavy_per_minute: int = 10

    @classmethod
    def from_env(cls) -> RateLimits:
        return cls(
            per_minute=_env_int("HUBRISE_SANDBOX_RATE_LIMIT_MINUTE", 500),
            per_hour=_env_int("HUBRISE_SANDBOX_RATE_LIMIT_HOUR", 2500),
            per_day=_env_int("HUBRISE_SANDBOX_RATE_LIMIT_DAY", 10000),
            heavy_per_minute=_env_int("HUBRISE_SANDBOX_RATE_LIMIT_HEAVY_MINUTE", 10),
        )


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8765
    db_path: str = "var/hubrise_sandbox.sqlite3"
    client_id: str = "getresto-demo.clients.hubrise.com"
    client_secret: str = "getresto-demo-secret"  # noqa: S105 - a documented sandbox-only default
    client_name: str = "Get Resto"
    pos_client_id: str = "caisse-pos.clients.hubrise.com"
    pos_client_secret: str = "caisse-pos-secret"  # noqa: S105 - a documented sandbox-only default
    demo_token: str = ""
    # One "minute" of the callback retry schedule, in seconds: tests shrink it.
    time_unit: float = 60.0
    delivery_timeout: float = 20.0
    auth_code_ttl: float = 600.0
    rate_limits: RateLimits = field(default_factory=RateLimits)
    # One minute of the rate-limit windows, in seconds: tests shrink it to see a window close.
    rate_time_unit: float = 60.0
    # Rows of the request log kept, newest first: a benchmark checking every call raises it.
    request_log_kept: int = 2000

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            host=_env_str("HUBRISE_SANDBOX_HOST", "127.0.0.1"),
            port=_env_int("HUBRISE_SANDBOX_PORT", 8765),
            db_path=_env_str("HUBRISE_SANDBOX_DB", "var/hubrise_sandbox.sqlite3"),
            client_id=_env_str("HUBRISE_SANDBOX_CLIENT_ID", "getresto-demo.clients.hubrise.com"),
            client_secret=_env_str("HUBRISE_SANDBOX_CLIENT_SECRET", "getresto-demo-secret"),
            client_name=_env_str("HUBRISE_SANDBOX_CLIENT_NAME", "Get Resto"),
            pos_client_id=_env_str("HUBRISE_SANDBOX_POS_CLIENT_ID", "caisse-pos.clients.hubrise.com"),
            pos_client_secret=_env_str("HUBRISE_SANDBOX_POS_CLIENT_SECRET", "caisse-pos-secret"),
            demo_token=_env_str("HUBRISE_SANDBOX_DEMO_TOKEN", ""),
            time_unit=_env_seconds("HUBRISE_SANDBOX_TIME_UNIT", 60.0),
            delivery_timeout=_env_seconds("HUBRISE_SANDBOX_DELIVERY_TIMEOUT", 20.0),
            auth_code_ttl=_env_seconds("HUBRISE_SANDBOX_AUTH_CODE_TTL", 600.0),
            rate_limits=RateLimits.from_env(),
            rate_time_unit=_env_seconds("HUBRISE_SANDBOX_RATE_TIME_UNIT", 60.0),
            request_log_kept=_env_int("HUBRISE_SANDBOX_REQUEST_LOG_KEPT", 2000),
        )
