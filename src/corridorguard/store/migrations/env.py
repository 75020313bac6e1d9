"""Alembic environment of the store, run programmatically by ``corridorguard.store.migrate``.

The caller passes an open connection in ``config.attributes["connection"]`` (already inside a
transaction); migrations then run in that transaction (SQLite and PostgreSQL both have
transactional DDL). Offline mode (``--sql``) renders SQL for the ``sqlalchemy.url`` option.
"""

from __future__ import annotations

from alembic import context

from corridorguard.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through corridorguard.store.migrate.upgrade()")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
