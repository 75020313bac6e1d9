"""``plan.json``: the JSON document of a :class:`~corridorguard.pipeline.PlanResult`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from corridorguard import __version__

if TYPE_CHECKING:
    from corridorguard.pipeline.run import PlanResult

__all__ = ["answer", "plan_document"]


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def answer(r: PlanResult) -> dict[str, Any]:
    """The "are current measures enough?" summary: harm per attacker-day by plan, paired
    differences to the static baseline with CIs, and the marginal value of more resources."""
    comp = r.comparison
    plans = {}
    for name, res in comp.results.items():
        d = comp.differences[name]
        plans[name] = {
            "harm": res.per_day["harm"].to_dict(),
            "interdicted": res.per_day["interdicted"].to_dict(),
            "succeeded": res.per_day["succeeded"].to_dict(),
            "harm_vs_static": d["harm"].to_dict(),
            "significant": bool(d["harm"].excludes_zero),
            "delay_vehicle_hours_per_day": res.burden["delay_vehicle_hours"]["mean_per_day"],
            "stops_per_day": res.burden["stops"]["mean_per_day"],
        }
    opt = comp.differences["optimised"]["harm"]
    unc = comp.difference("uncoordinated", "optimised", "harm")
    if opt.high < 0:
        verdict = "the optimised plan lowers expected harm against the static baseline"
    elif opt.low > 0:
        verdict = "the optimised plan does NOT beat the static baseline in this model"
    else:
        verdict = "no significant difference between the optimised plan and the static baseline"
    marginal = {}
    for res_name, curve in r.what_if.curves.items():
        last = curve[-1]
        marginal[res_name] = {
            "levels": [p["level"] for p in curve],
            "harm": [p["harm"]["mean"] for p in curve],
            "marginal_per_unit": [p.get("marginal_per_unit") for p in curve[1:]],
            "last_step": last.get("marginal"),
        }
    return _clean(
        {
            "verdict": verdict,
            "metric": "expected casualties per attacker-day (notional lethality)",
            "plans": plans,
            "value_of_coordination_harm": {
                "uncoordinated_minus_optimised": unc.to_dict(),
                "significant": bool(unc.excludes_zero),
            },
            "marginal_value": marginal,
        }
    )


def plan_document(r: PlanResult) -> dict[str, Any]:
    sc = r.scenario
    pl = r.placements
    patrol = r.patrol.to_dict()
    patrol.pop("files", None)
    patrol_timing = _pop_timings(patrol)
    checkpoints = {
        "optimised": {f: c.to_dict() for f, c in pl.checkpoints.items()},
        "static": pl.static_checkpoints,
    }
    sensors = {
        "cameras": {u: _sensor(p) for u, p in pl.cameras.items()},
        "drones": {u: _sensor(p) for u, p in pl.drones.items()},
        "static_cameras": {u: p.selected_ for u, p in pl.static_cameras.items()},
        "static_drones": {u: p.selected_ for u, p in pl.static_drones.items()},
    }
    qrf: dict[str, Any] = {
        u: {
            "current": q.to_dict(),
            "optimised": pl.qrf_opt[u].to_dict() if u in pl.qrf_opt else None,
        }
        for u, q in pl.qrf.items()
    }
    qrf["placement"] = pl.qrf_bases
    convoys = {}
    for cid, router in r.convoys.items():
        mv = next(m for m in sc.movements if m.id == cid)
        doc = router.to_dict()
        doc.update({"name": mv.name, "people": mv.people, "vehicles": mv.vehicles})
        convoys[cid] = doc
    evaluation = {
        "answer": answer(r),
        "comparison": r.comparison.to_dict(),
        "table": r.comparison.table(),
        "what_if": r.what_if.to_dict(),
        "assumptions": r.assumptions.to_dict(),
        "sizes": {"compare_days": r.sizes.compare_days, "what_if_days": r.sizes.what_if_days},
    }
    burden = {name: res.burden for name, res in r.comparison.results.items()}
    return _clean(
        {
            "corridorguard": __version__,
            "scenario": sc.name,
            "title": sc.title,
            "labels": dict(sc.labels),
            "attribution": list(sc.attribution),
            "seed": r.seed,
            "days": r.days,
            "incidents": r.incidents_source,
            "forecast": r.forecast.to_dict(),
            "game": r.game,
            "patrols": patrol,
            "checkpoints": checkpoints,
            "sensors": sensors,
            "qrf": qrf,
            "convoys": convoys,
            "evaluation": evaluation,
            "civilian_burden": burden,
            "timings_s": {**r.timings, "patrol_solver": patrol_timing},
            "files": r.files,
        }
    )


def _pop_timings(doc: Any, path: str = "") -> dict[str, Any]:
    """Move wall-clock fields (``seconds``, ``*_seconds``) out of ``doc`` so that the rest of
    ``plan.json`` is identical for the same seed; returns them by path."""
    found: dict[str, Any] = {}
    if isinstance(doc, dict):
        for k in [k for k in doc if k == "seconds" or str(k).endswith("_seconds")]:
            found[f"{path}{k}"] = doc.pop(k)
        for k, v in doc.items():
            found |= _pop_timings(v, f"{path}{k}.")
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found |= _pop_timings(v, f"{path}{i}.")
    return found


def _sensor(p: Any) -> dict[str, Any]:
    d = p.to_dict()
    d.pop("gaps", None)
    return d
