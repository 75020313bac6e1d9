"""The store: SQLAlchemy 2 models, repositories and Alembic migrations (SQLite and PostgreSQL).

>>> from corridorguard.store import open_store
>>> with open_store("sqlite:///example.sqlite3") as store:  # doctest: +SKIP
...     store.incidents.add_many(records)

Layers: :mod:`~corridorguard.store.engine` (engines with durable connection settings),
:mod:`~corridorguard.store.models` (declarative :class:`Base` and tables),
:mod:`~corridorguard.store.migrate` (Alembic, run programmatically),
:mod:`~corridorguard.store.incidents` (the incident repository) and
:mod:`~corridorguard.store.store` (:class:`Store`, which ties them together).
"""

from corridorguard.store.engine import SQLITE_PRAGMAS, make_engine, mask_url
from corridorguard.store.incidents import (
    AddResult,
    IncidentFilter,
    IncidentRepository,
    IncidentStats,
    SqlIncidentRepository,
    StoredIncident,
)
from corridorguard.store.migrate import check_schema, current_revision, head_revision, upgrade
from corridorguard.store.models import Base, IncidentRow
from corridorguard.store.store import Store, open_store

# The server's tables (identity, markings, plans, audit): registered on Base.metadata here so
# that migrations and schema checks always see them.
from corridorguard.store import audit_sql, identity, marks, plans, resources, shared  # noqa: F401  isort: skip

__all__ = [
    "SQLITE_PRAGMAS",
    "AddResult",
    "Base",
    "IncidentFilter",
    "IncidentRepository",
    "IncidentRow",
    "IncidentStats",
    "SqlIncidentRepository",
    "Store",
    "StoredIncident",
    "check_schema",
    "current_revision",
    "head_revision",
    "make_engine",
    "mask_url",
    "open_store",
    "upgrade",
]
