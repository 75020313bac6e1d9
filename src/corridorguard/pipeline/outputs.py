"""Write a plan's outputs: ``plan.json``, ``report.html`` and GeoJSON/KML/GPX layers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corridorguard.errors import ConfigError

if TYPE_CHECKING:
    from corridorguard.pipeline.run import PlanResult

__all__ = ["write_outputs"]


def _layers(r: PlanResult, out: Path) -> dict[str, Any]:
    from corridorguard.patrol.export import write_unit_day_files
    from corridorguard.scenario import scenario_to_geojson

    layers = out / "layers"
    layers.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {}
    path = layers / "scenario.geojson"
    path.write_text(json.dumps(scenario_to_geojson(r.scenario)), encoding="utf-8")
    files["scenario"] = str(path.relative_to(out))
    routes = write_unit_day_files(r.scenario, r.patrol.schedules, layers)
    files["patrol_routes"] = len(routes)
    files["patrol_routes_dir"] = "layers/routes"
    for cid, router in r.convoys.items():
        base = layers / f"convoy_{cid}"
        base.with_suffix(".geojson").write_text(json.dumps(router.to_geojson()), encoding="utf-8")
        base.with_suffix(".gpx").write_text(router.to_gpx(), encoding="utf-8")
    files["convoys"] = [f"layers/convoy_{cid}.geojson|gpx" for cid in r.convoys]
    gaps = {
        "type": "FeatureCollection",
        "features": [f for p in r.placements.cameras.values() for f in p.gaps_["features"]],
    }
    (layers / "camera_gaps.geojson").write_text(json.dumps(gaps), encoding="utf-8")
    files["camera_gaps"] = "layers/camera_gaps.geojson"
    (layers / "placement.geojson").write_text(json.dumps(placement_geojson(r)), encoding="utf-8")
    files["placement"] = "layers/placement.geojson"
    return files


def _point(lon: float, lat: float, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def placement_geojson(r: PlanResult) -> dict[str, Any]:
    """Checkpoints (segment midpoints), cameras, drone stations and QRF bases (today's and the
    optimised ones) as one RFC 7946 FeatureCollection; every feature carries the road label."""
    sc, pl = r.scenario, r.placements
    label = sc.labels.get("roads", "schematic")
    feats: list[dict[str, Any]] = []
    edges = {e.id: e for e in sc.edges}
    for force, cp in pl.checkpoints.items():
        for c in cp.checkpoints_:
            e = edges[c["edge"]]
            a, b = sc.node(e.source), sc.node(e.target)
            props = {"layer": "checkpoint", "force": force, "label": label, **c}
            feats.append(_point((a.lon + b.lon) / 2, (a.lat + b.lat) / 2, props))
    for layer, src in (("camera", pl.cameras), ("drone", pl.drones)):
        for unit, p in src.items():
            for nid in p.selected_:
                n = sc.node(nid)
                props = {"layer": layer, "unit": unit, "node": nid, "label": label}
                feats.append(_point(n.lon, n.lat, props))
    for layer, bases in (("qrf_base_current", pl.qrf), ("qrf_base_optimised", pl.qrf_opt)):
        for unit, q in bases.items():
            n = sc.node(q.bases[0])
            props = {"layer": layer, "unit": unit, "node": q.bases[0], "label": label}
            feats.append(_point(n.lon, n.lat, props))
    return {"type": "FeatureCollection", "features": feats}


def write_outputs(
    r: PlanResult, out: Path, *, progress: Callable[[int, int | None], None] | None = None
) -> dict[str, Any]:
    """Write everything into ``out``; returns (and records in ``r.files``) what was written."""
    from corridorguard.report.html import render_report

    def tick(done: int, total: int | None = None) -> None:
        if progress is not None:
            progress(done, total)

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create output folder {out}: {exc}", field="out") from None
    tick(0, 3)
    files = _layers(r, out)
    tick(1, 3)
    files["plan"] = "plan.json"
    files["report"] = "report.html"
    r.files = files
    doc = r.to_dict()
    (out / "plan.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    tick(2, 3)
    (out / "report.html").write_text(render_report(r, doc), encoding="utf-8")
    tick(3, 3)
    return files
