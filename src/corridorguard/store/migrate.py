"""Schema migrations (Alembic, shipped inside the package, run programmatically).

The migration scripts live in ``corridorguard/store/migrations/versions/``. :func:`upgrade` applies
every pending revision in one transaction; :func:`current_revision` and :func:`head_revision` tell
where a database and the code stand; :func:`check_schema` is what :meth:`Store.open` runs.

Policy (``Store.open(upgrade="auto")``, the default): a fresh, empty database is brought to the
head revision automatically; a database at an older revision is refused with a message telling
the user to run ``corridorguard db upgrade`` (upgrading existing data is a deliberate step: take a
backup first); a database at a revision this code does not know (newer code wrote it) is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from corridorguard.errors import ConfigError
from corridorguard.store.engine import WRITE_OPTION, mask_url

__all__ = [
    "MIGRATIONS_DIR",
    "UpgradePolicy",
    "alembic_config",
    "check_schema",
    "current_revision",
    "downgrade",
    "head_revision",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

UpgradePolicy = Literal["auto", "always", "never"]


def alembic_config(url: str | None = None) -> Config:
    """An Alembic :class:`~alembic.config.Config` pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest revision shipped with the code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or ``None`` for a database never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Apply pending migrations up to ``revision`` in one transaction; ``(before, after)``."""
    before = current_revision(engine)
    cfg = alembic_config()
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return before, current_revision(engine) or ""


def downgrade(engine: Engine, revision: str) -> tuple[str | None, str | None]:
    """Revert migrations down to ``revision`` (``"base"``: drop everything); ``(before, after)``.

    Destroys data in the dropped tables; for development and tests.
    """
    before = current_revision(engine)
    cfg = alembic_config()
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
    return before, current_revision(engine)


def check_schema(engine: Engine, policy: UpgradePolicy = "auto") -> str | None:
    """Apply the open-time policy (see the module docstring); returns the revision in force."""
    if policy == "never":
        return current_revision(engine)
    if policy == "always":
        return upgrade(engine)[1]
    rev, head = current_revision(engine), head_revision()
    if rev == head:
        return rev
    if rev is None:
        tables = inspect(engine).get_table_names()
        if tables:
            raise ConfigError(
                f"{mask_url(engine.url)} has tables ({', '.join(sorted(tables)[:5])}) but no "
                "corridorguard schema revision; use an empty database",
                field="database_url",
            )
        return upgrade(engine)[1]
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if rev not in known:
        raise ConfigError(
            f"database schema revision {rev} is newer than this corridorguard (head {head}); "
            "upgrade corridorguard",
            field="database_url",
        )
    raise ConfigError(
        f"database schema is at revision {rev}, this corridorguard needs {head}: "
        "run `corridorguard db upgrade` (back the database up first)",
        field="database_url",
    )
