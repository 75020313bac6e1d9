"""``/api/v1/scenarios``: the built-in scenarios and their sites (read only).

The built-in CPEC scenario is public, partly notional reference data (see ``docs/scenario.md``):
every authenticated operational user may read it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Depends, Request

from corridorguard.api.deps import (
    OPERATIONAL,
    Caller,
    Ctx,
    clean_query,
    require_role,
    require_scope,
)
from corridorguard.api.errors import ERROR_RESPONSES
from corridorguard.errors import NotFoundError
from corridorguard.scenario import Scenario, builtin_scenarios, load_scenario

router = APIRouter(
    prefix="/scenarios",
    tags=["scenarios and sites"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(clean_query)],
)


@lru_cache(maxsize=8)
def _scenario(name: str) -> Scenario:
    if name not in builtin_scenarios():
        raise NotFoundError(f"no scenario {name!r}")
    return load_scenario(name)


@router.get("", summary="Built-in scenarios")
def list_scenarios(request: Request, ctx: Ctx, who: Caller) -> list[dict[str, Any]]:
    """Names and sizes of the built-in scenarios."""
    require_scope(ctx, request, who, "read")
    require_role(ctx, request, who, OPERATIONAL)
    out = []
    for name in builtin_scenarios():
        sc = _scenario(name)
        out.append(
            {"name": name, "sites": len(sc.sites), "nodes": len(sc.nodes), "edges": len(sc.edges)}
        )
    return out


@router.get("/{name}/sites", summary="Sites of a scenario")
def sites(name: str, request: Request, ctx: Ctx, who: Caller) -> list[dict[str, Any]]:
    """Protected sites (approximate, partly notional: see each site's ``notional_fields``)."""
    require_scope(ctx, request, who, "read")
    require_role(ctx, request, who, OPERATIONAL)
    return [s.model_dump(mode="json") for s in _scenario(name).sites]
