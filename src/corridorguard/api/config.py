"""Server settings (environment prefix ``CORRIDORGUARD_``) and the audit signing key.

Settings
--------
audit_key_file : str
    PEM file of the Ed25519 key that signs audit checkpoints (``corridorguard audit keygen``).
    In ``development`` a key is generated on first use into the data directory
    (``audit-signing-key.pem`` next to the default database); in ``test`` and ``production`` it
    is required. Env: ``CORRIDORGUARD_AUDIT_KEY_FILE``.
audit_checkpoint_every : int
    Sign a checkpoint after every N audit entries (default 100). Env:
    ``CORRIDORGUARD_AUDIT_CHECKPOINT_EVERY``.
audit_checkpoint_seconds : float
    ... or once T seconds passed with entries waiting (default 300; a timer in the app's
    lifespan signs it while no writes arrive; 0 turns time-based checkpoints off).
token_audit_seconds : float
    A token's use is audited at most once per this many seconds per token and process
    (default 300; writes, denials and exports are always audited).
token_cache_seconds : float
    A valid token's lookup is remembered per process for this long (default 2; 0: off), so a
    token revoked from another process stops working within that time.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic_settings import BaseSettings, SettingsConfigDict

from corridorguard.audit.checkpoint import (
    generate_private_key,
    load_private_key_pem,
    private_key_pem,
)
from corridorguard.errors import ConfigError
from corridorguard.settings import Settings, get_settings

__all__ = ["ServerSettings", "load_signing_key"]


class ServerSettings(BaseSettings):
    """The server's own settings; see the module docstring."""

    model_config = SettingsConfigDict(env_prefix="CORRIDORGUARD_", extra="ignore")

    audit_key_file: str = ""
    audit_checkpoint_every: int = 100
    audit_checkpoint_seconds: float = 300.0
    token_audit_seconds: float = 300.0
    token_cache_seconds: float = 2.0


def _default_key_path() -> Path:
    return Path(platformdirs.user_data_dir("corridorguard")) / "audit-signing-key.pem"


def load_signing_key(server: ServerSettings, settings: Settings | None = None) -> Ed25519PrivateKey:
    """The audit signing key: from ``audit_key_file``; generated in development only."""
    settings = settings or get_settings()
    if server.audit_key_file:
        path = Path(server.audit_key_file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the audit key: {exc.strerror}", file=str(path), field="audit_key_file"
            ) from None
        return load_private_key_pem(data, file=str(path))
    if settings.environment != "development":
        raise ConfigError(
            "CORRIDORGUARD_AUDIT_KEY_FILE must be set outside development "
            "(create one with `corridorguard audit keygen`)",
            field="audit_key_file",
        )
    path = _default_key_path()
    if path.exists():
        return load_private_key_pem(path.read_bytes(), file=str(path))
    key = generate_private_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_key_pem(key))
    return key
