"""``GET /api/v1/stats``: aggregate figures, no record contents.

Oversight users get instance-wide counts (their mandate); everyone else gets counts over the
records they may see (the same policy filter as every other read).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import extract, func, select

from corridorguard.api.deps import Caller, Ctx, clean_query, require_scope
from corridorguard.api.errors import ERROR_RESPONSES
from corridorguard.api.queries import visible_incidents
from corridorguard.sharing.policy import Role
from corridorguard.store.models import IncidentRow
from corridorguard.store.plans import PlanRow

router = APIRouter(
    tags=["aggregates"], responses=ERROR_RESPONSES, dependencies=[Depends(clean_query)]
)


@router.get("/stats", summary="Aggregate figures")
def stats(request: Request, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Counts of incidents by type, year and TLP, and of plans by status."""
    require_scope(ctx, request, who, "read")
    inst = IncidentRow.__table__
    if who.role is Role.OVERSIGHT:
        base = select(inst).subquery()
    else:
        base = visible_incidents(who.actor).subquery()

    def groups(conn: Any, col: Any) -> dict[str, int]:
        stmt = select(col, func.count()).select_from(base).group_by(col).order_by(col)
        return {str(k): int(n) for k, n in conn.execute(stmt)}

    with ctx.store.read() as conn:
        total = conn.execute(select(func.count()).select_from(base)).scalar_one()
        fat = conn.execute(
            select(func.coalesce(func.sum(base.c.fatalities_best), 0)).select_from(base)
        ).scalar_one()
        out = {
            "scope": "instance" if who.role is Role.OVERSIGHT else "visible to you",
            "incidents": {
                "total": int(total),
                "fatalities_best": int(fat),
                "by_type": groups(conn, base.c.type),
                "by_tlp": groups(conn, base.c.tlp),
                "by_year": groups(conn, extract("year", base.c.time)),
            },
        }
        if who.role is Role.OVERSIGHT:
            p = PlanRow.__table__
            stmt = select(p.c.status, func.count()).group_by(p.c.status).order_by(p.c.status)
            out["plans"] = {"by_status": {k: int(n) for k, n in conn.execute(stmt)}}
    return out
