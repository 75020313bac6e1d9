"""``GET /api/v1/stats/resources``: aggregate figures of sites, forecasts, movements, sensors.

Counts only, never record contents. Oversight users get instance-wide figures (their mandate:
aggregates, no operational detail); everyone else gets figures over the records they may see,
through the same policy filter as every other read
(:func:`~corridorguard.api.queries.visible_rows`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Select, func, select

from corridorguard.api.deps import Caller, Ctx, require_scope
from corridorguard.api.errors import ERROR_RESPONSES
from corridorguard.api.queries import visible_rows
from corridorguard.sharing.policy import Role
from corridorguard.store.resources import FORECASTS, MOVEMENTS, SENSORS, SITES, MarkedTables

router = APIRouter(tags=["aggregates"], responses=ERROR_RESPONSES)

_GROUPS: dict[str, tuple[MarkedTables, tuple[str, ...]]] = {
    "sites": (SITES, ("tlp", "type")),
    "forecasts": (FORECASTS, ("tlp", "model")),
    "movements": (MOVEMENTS, ("tlp", "force")),
    "sensors": (SENSORS, ("tlp", "kind", "status")),
}


@router.get("/stats/resources", summary="Aggregate figures of sites, forecasts, movements, sensors")
def resource_stats(request: Request, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Counts by marking and kind; movements also the total of people and vehicles moved."""
    require_scope(ctx, request, who, "read")
    oversight = who.role is Role.OVERSIGHT
    out: dict[str, Any] = {"scope": "instance" if oversight else "visible to you"}
    with ctx.store.read() as conn:
        for name, (t, columns) in _GROUPS.items():
            base: Select[Any] = (
                select(t.table) if oversight else visible_rows(who.actor, t.table, t.marking)
            )
            sub = base.subquery()
            figures: dict[str, Any] = {
                "total": int(conn.execute(select(func.count()).select_from(sub)).scalar_one())
            }
            for col in columns:
                stmt = select(sub.c[col], func.count()).group_by(sub.c[col]).order_by(sub.c[col])
                figures[f"by_{col}"] = {str(k): int(n) for k, n in conn.execute(stmt)}
            if name == "movements":
                sums = select(
                    func.coalesce(func.sum(sub.c.people), 0),
                    func.coalesce(func.sum(sub.c.vehicles), 0),
                )
                people, vehicles = conn.execute(sums).one()
                figures["people"], figures["vehicles"] = int(people), int(vehicles)
            out[name] = figures
    return out
