"""Operational resources: sites, forecasts (+ values), movements, sensors, with markings.

Each resource has the marking columns (originator, tlp, created_by) and two association tables
``<kind>_rel_to`` and ``<kind>_red_recipients`` read by the one releasability policy.
Triggers (both backends): ``forecast_values`` refuses UPDATE and DELETE (and TRUNCATE on
PostgreSQL): an issued forecast's values never change.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 16:28:25.484603
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from corridorguard.store.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forecasts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("originator", sa.String(length=200), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("scenario", sa.String(length=100), nullable=True),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_to", UTCDateTime(), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("cell_m", sa.Double(), nullable=True),
        sa.Column("crs", sa.Text(), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("n_values", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')",
            name=op.f("ck_forecasts_tlp"),
        ),
        sa.CheckConstraint("valid_to > valid_from", name=op.f("ck_forecasts_window")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecasts")),
    )
    op.create_table(
        "movements",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("originator", sa.String(length=200), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scenario", sa.String(length=100), nullable=True),
        sa.Column("origin", sa.String(length=100), nullable=False),
        sa.Column("destination", sa.String(length=100), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("window_end", UTCDateTime(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("vehicles", sa.Integer(), nullable=False),
        sa.Column("force", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.CheckConstraint(
            "tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')",
            name=op.f("ck_movements_tlp"),
        ),
        sa.CheckConstraint("people >= 0 AND vehicles >= 1", name=op.f("ck_movements_counts")),
        sa.CheckConstraint("window_end > window_start", name=op.f("ck_movements_window")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_movements")),
    )
    op.create_table(
        "sensors",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("originator", sa.String(length=200), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scenario", sa.String(length=100), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("segment", sa.String(length=100), nullable=True),
        sa.Column("range_m", sa.Double(), nullable=True),
        sa.Column("azimuth_deg", sa.Double(), nullable=True),
        sa.Column("fov_deg", sa.Double(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('camera', 'drone', 'checkpoint')", name=op.f("ck_sensors_kind")
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'active', 'inactive')", name=op.f("ck_sensors_status")
        ),
        sa.CheckConstraint(
            "tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')", name=op.f("ck_sensors_tlp")
        ),
        sa.CheckConstraint(
            "(lon IS NOT NULL AND lat IS NOT NULL) OR segment IS NOT NULL",
            name=op.f("ck_sensors_place"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensors")),
    )
    op.create_table(
        "sites",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("originator", sa.String(length=200), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.Column("scenario", sa.String(length=100), nullable=True),
        sa.Column("key", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("criticality", sa.Double(), nullable=False),
        sa.Column("workers", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=True),
        sa.Column("province", sa.String(length=100), nullable=True),
        sa.Column("node", sa.String(length=100), nullable=True),
        sa.Column("approximate", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("notional", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("stix_id", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')", name=op.f("ck_sites_tlp")
        ),
        sa.CheckConstraint("criticality BETWEEN 0 AND 5", name=op.f("ck_sites_criticality")),
        sa.CheckConstraint(
            "lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90", name=op.f("ck_sites_lonlat")
        ),
        sa.CheckConstraint("workers >= 0", name=op.f("ck_sites_workers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint(
            "originator", "scenario", "key", name=op.f("uq_sites_originator_scenario_key")
        ),
        sa.UniqueConstraint("originator", "stix_id", name=op.f("uq_sites_originator_stix_id")),
    )
    op.create_table(
        "forecast_red_recipients",
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["forecasts.id"],
            name=op.f("fk_forecast_red_recipients_record_id_forecasts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "user_id", name=op.f("pk_forecast_red_recipients")),
    )
    op.create_table(
        "forecast_rel_to",
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("org", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["forecasts.id"],
            name=op.f("fk_forecast_rel_to_record_id_forecasts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "org", name=op.f("pk_forecast_rel_to")),
    )
    op.create_table(
        "forecast_values",
        sa.Column(
            "forecast_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("value", sa.Double(), nullable=False),
        sa.CheckConstraint("kind IN ('cell', 'segment')", name=op.f("ck_forecast_values_kind")),
        sa.ForeignKeyConstraint(
            ["forecast_id"],
            ["forecasts.id"],
            name=op.f("fk_forecast_values_forecast_id_forecasts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("forecast_id", "idx", name=op.f("pk_forecast_values")),
    )
    op.create_table(
        "movement_red_recipients",
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["movements.id"],
            name=op.f("fk_movement_red_recipients_record_id_movements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "user_id", name=op.f("pk_movement_red_recipients")),
    )
    op.create_table(
        "movement_rel_to",
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("org", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["movements.id"],
            name=op.f("fk_movement_rel_to_record_id_movements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "org", name=op.f("pk_movement_rel_to")),
    )
    op.create_table(
        "sensor_red_recipients",
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["sensors.id"],
            name=op.f("fk_sensor_red_recipients_record_id_sensors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "user_id", name=op.f("pk_sensor_red_recipients")),
    )
    op.create_table(
        "sensor_rel_to",
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("org", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["sensors.id"],
            name=op.f("fk_sensor_rel_to_record_id_sensors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "org", name=op.f("pk_sensor_rel_to")),
    )
    op.create_table(
        "site_red_recipients",
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["sites.id"],
            name=op.f("fk_site_red_recipients_record_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "user_id", name=op.f("pk_site_red_recipients")),
    )
    op.create_table(
        "site_rel_to",
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("org", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["sites.id"],
            name=op.f("fk_site_rel_to_record_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "org", name=op.f("pk_site_rel_to")),
    )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_table("site_rel_to")
    op.drop_table("site_red_recipients")
    op.drop_table("sensor_rel_to")
    op.drop_table("sensor_red_recipients")
    op.drop_table("movement_rel_to")
    op.drop_table("movement_red_recipients")
    op.drop_table("forecast_values")
    op.drop_table("forecast_rel_to")
    op.drop_table("forecast_red_recipients")
    op.drop_table("sites")
    op.drop_table("sensors")
    op.drop_table("movements")
    op.drop_table("forecasts")


_SQLITE_UP = [
    f"CREATE TRIGGER forecast_values_no_{verb.lower()} BEFORE {verb} ON forecast_values "
    "BEGIN SELECT RAISE(ABORT, 'forecast values are immutable'); END"
    for verb in ("UPDATE", "DELETE")
]
_SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS forecast_values_no_{v}" for v in ("update", "delete")]
_PG_UP = [
    "CREATE FUNCTION cg_forecast_values_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION 'forecast values are immutable'; END $$",
    "CREATE TRIGGER forecast_values_frozen BEFORE UPDATE OR DELETE ON forecast_values "
    "FOR EACH ROW EXECUTE FUNCTION cg_forecast_values_frozen()",
    "CREATE TRIGGER forecast_values_no_truncate BEFORE TRUNCATE ON forecast_values "
    "FOR EACH STATEMENT EXECUTE FUNCTION cg_forecast_values_frozen()",
]
_PG_DOWN = [
    "DROP TRIGGER IF EXISTS forecast_values_frozen ON forecast_values",
    "DROP TRIGGER IF EXISTS forecast_values_no_truncate ON forecast_values",
    "DROP FUNCTION IF EXISTS cg_forecast_values_frozen()",
]


def _run(statements: list[str]) -> None:
    for sql in statements:
        op.execute(sa.text(sql))


def _create_triggers() -> None:
    _run(_SQLITE_UP if op.get_bind().dialect.name == "sqlite" else _PG_UP)


def _drop_triggers() -> None:
    _run(_SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else _PG_DOWN)
