"""Server tables: identity, incident markings and provenance, plans, idempotency, audit log.

Triggers (both backends): ``audit_entries`` and ``audit_checkpoints`` refuse UPDATE and DELETE;
approved or rejected ``plans`` rows refuse UPDATE; ``incident_rel_to`` follows
``incidents.rel_to`` (the JSON list kept by the store) on insert and update.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 14:21:06.996931
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from corridorguard.store.models import StringList, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("time", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "stored_at", UTCDateTime(), server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_checkpoints_size"), ["size"], unique=False)

    op.create_table(
        "audit_entries",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "orgs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default=sa.text("'agency'"), nullable=False),
        sa.Column(
            "created_at", UTCDateTime(), server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.CheckConstraint("kind IN ('agency', 'oversight')", name=op.f("ck_orgs_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orgs")),
        sa.UniqueConstraint("name", name=op.f("uq_orgs_name")),
    )
    op.create_table(
        "plans",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lineage", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("forces", StringList(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("originator", sa.String(length=200), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'proposed', 'approved', 'rejected')", name=op.f("ck_plans_status")
        ),
        sa.CheckConstraint(
            "tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')", name=op.f("ck_plans_tlp")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("lineage", "version", name=op.f("uq_plans_lineage_version")),
    )
    op.create_table(
        "incident_meta",
        sa.Column(
            "incident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_meta_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_meta")),
    )
    op.create_table(
        "incident_red_recipients",
        sa.Column(
            "incident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_red_recipients_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "user_id", name=op.f("pk_incident_red_recipients")),
    )
    op.create_table(
        "incident_rel_to",
        sa.Column(
            "incident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("org", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_rel_to_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "org", name=op.f("pk_incident_rel_to")),
    )
    op.create_table(
        "plan_approvals",
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "decision IN ('approve', 'reject')", name=op.f("ck_plan_approvals_decision")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_approvals_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "org", name=op.f("pk_plan_approvals")),
    )
    op.create_table(
        "plan_red_recipients",
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_red_recipients_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "user_id", name=op.f("pk_plan_red_recipients")),
    )
    op.create_table(
        "plan_rel_to",
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_rel_to_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("plan_id", "org", name=op.f("pk_plan_rel_to")),
    )
    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at", UTCDateTime(), server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.CheckConstraint(
            "role IN ('reporter', 'analyst', 'planner', 'commander', 'oversight', 'admin')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_users_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_org_id"), ["org_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", StringList(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_org_id"))

    op.drop_table("users")
    op.drop_table("plan_rel_to")
    op.drop_table("plan_red_recipients")
    op.drop_table("plan_approvals")
    op.drop_table("incident_rel_to")
    op.drop_table("incident_red_recipients")
    op.drop_table("incident_meta")
    op.drop_table("plans")
    op.drop_table("orgs")
    op.drop_table("idempotency_keys")
    op.drop_table("audit_entries")
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_checkpoints_size"))

    op.drop_table("audit_checkpoints")


_APPEND_ONLY = ("audit_entries", "audit_checkpoints")

_SQLITE_UP = [
    *(
        f"CREATE TRIGGER {t}_no_{verb.lower()} BEFORE {verb} ON {t} "
        f"BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END"
        for t in _APPEND_ONLY
        for verb in ("UPDATE", "DELETE")
    ),
    "CREATE TRIGGER plans_frozen BEFORE UPDATE ON plans "
    "WHEN OLD.status IN ('approved', 'rejected') "
    "BEGIN SELECT RAISE(ABORT, 'approved and rejected plans are immutable'); END",
    "CREATE TRIGGER incidents_rel_to_ins AFTER INSERT ON incidents "
    "WHEN NEW.rel_to IS NOT NULL AND NEW.rel_to NOT IN ('', '[]') "
    "BEGIN INSERT OR IGNORE INTO incident_rel_to (incident_id, org) "
    "SELECT NEW.id, value FROM json_each(NEW.rel_to) WHERE type = 'text'; END",
    "CREATE TRIGGER incidents_rel_to_upd AFTER UPDATE OF rel_to ON incidents "
    "BEGIN DELETE FROM incident_rel_to WHERE incident_id = NEW.id; "
    "INSERT OR IGNORE INTO incident_rel_to (incident_id, org) "
    "SELECT NEW.id, value FROM json_each(NEW.rel_to) WHERE type = 'text'; END",
    "INSERT OR IGNORE INTO incident_rel_to (incident_id, org) "
    "SELECT incidents.id, j.value FROM incidents, json_each(incidents.rel_to) AS j "
    "WHERE j.type = 'text'",
]
_SQLITE_DOWN = [
    *(f"DROP TRIGGER IF EXISTS {t}_no_{v}" for t in _APPEND_ONLY for v in ("update", "delete")),
    "DROP TRIGGER IF EXISTS plans_frozen",
    "DROP TRIGGER IF EXISTS incidents_rel_to_ins",
    "DROP TRIGGER IF EXISTS incidents_rel_to_upd",
]

_PG_UP = [
    "CREATE FUNCTION cg_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
    *(
        f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
        "FOR EACH ROW EXECUTE FUNCTION cg_append_only()"
        for t in _APPEND_ONLY
    ),
    *(
        f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
        "FOR EACH STATEMENT EXECUTE FUNCTION cg_append_only()"
        for t in _APPEND_ONLY
    ),
    "CREATE FUNCTION cg_plans_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF OLD.status IN ('approved', 'rejected') THEN "
    "RAISE EXCEPTION 'approved and rejected plans are immutable'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER plans_frozen BEFORE UPDATE ON plans "
    "FOR EACH ROW EXECUTE FUNCTION cg_plans_frozen()",
    "CREATE FUNCTION cg_incident_rel_to() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "DELETE FROM incident_rel_to WHERE incident_id = NEW.id; "
    "INSERT INTO incident_rel_to (incident_id, org) "
    "SELECT DISTINCT NEW.id, x FROM jsonb_array_elements_text(CAST(NEW.rel_to AS jsonb)) AS x "
    "ON CONFLICT DO NOTHING; RETURN NULL; END $$",
    "CREATE TRIGGER incidents_rel_to AFTER INSERT OR UPDATE OF rel_to ON incidents "
    "FOR EACH ROW EXECUTE FUNCTION cg_incident_rel_to()",
    "INSERT INTO incident_rel_to (incident_id, org) "
    "SELECT DISTINCT i.id, x FROM incidents AS i, "
    "jsonb_array_elements_text(CAST(i.rel_to AS jsonb)) AS x "
    "ON CONFLICT DO NOTHING",
]
_PG_DOWN = [
    "DROP TRIGGER IF EXISTS incidents_rel_to ON incidents",
    "DROP FUNCTION IF EXISTS cg_incident_rel_to()",
    "DROP TRIGGER IF EXISTS plans_frozen ON plans",
    "DROP FUNCTION IF EXISTS cg_plans_frozen()",
    *(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}" for t in _APPEND_ONLY),
    *(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}" for t in _APPEND_ONLY),
    "DROP FUNCTION IF EXISTS cg_append_only()",
]


def _run(statements: list[str]) -> None:
    for sql in statements:
        op.execute(sa.text(sql))


def _create_triggers() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(_SQLITE_UP if sqlite else _PG_UP)


def _drop_triggers() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(_SQLITE_DOWN if sqlite else _PG_DOWN)
