"""Settings, read from the environment (prefix ``CORRIDORGUARD_``) and overridable per call.

Settings
--------
database_url : str
    SQLAlchemy URL of the store. Default: a SQLite file ``corridorguard.sqlite3`` in the user's
    data directory (``platformdirs.user_data_dir("corridorguard")``). PostgreSQL:
    ``postgresql+psycopg://user:password@host:5432/dbname``. Env: ``CORRIDORGUARD_DATABASE_URL``.
environment : str
    ``development`` (default), ``test`` or ``production``. Outside development, secrets must be set
    explicitly. Env: ``CORRIDORGUARD_ENVIRONMENT``.
secret_key : str
    Key for signing server-side material. Refuses the default outside development.
    Env: ``CORRIDORGUARD_SECRET_KEY``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from corridorguard.errors import ConfigError

__all__ = ["Settings", "default_database_url", "get_settings"]

_DEV_SECRET = "development-only-secret-change-me"


def default_database_url() -> str:
    """SQLite file under the user's data directory."""
    path = Path(platformdirs.user_data_dir("corridorguard")) / "corridorguard.sqlite3"
    return f"sqlite:///{path}"


class Settings(BaseSettings):
    """Every setting corridorguard reads; see the module docstring for each one."""

    model_config = SettingsConfigDict(env_prefix="CORRIDORGUARD_", extra="ignore")

    database_url: str = ""
    environment: Literal["development", "test", "production"] = "development"
    secret_key: str = _DEV_SECRET

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if not self.database_url:
            self.database_url = default_database_url()
        if self.environment == "production" and self.secret_key == _DEV_SECRET:
            raise ConfigError(
                "CORRIDORGUARD_SECRET_KEY must be set outside development", field="secret_key"
            )
        return self


def get_settings(*, database_url: str | None = None) -> Settings:
    """Settings from the environment, with explicit overrides (``None`` means "not given")."""
    if database_url is not None:
        return Settings(database_url=database_url)
    return Settings()
