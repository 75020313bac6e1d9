"""``corridorguard risk backtest|forecast``: thin wrappers over :mod:`corridorguard.risk`."""

from __future__ import annotations

import csv
import importlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import typer

from corridorguard._cli._common import JSON_OPTION, err_console, print_json, progress_bar
from corridorguard.errors import ConfigError, NotFoundError, ValidationError
from corridorguard.risk import (
    DEFAULT_MODELS,
    MODELS,
    ETASModel,
    Events,
    Grid,
    PrecisionPolicy,
    apply_precision,
    asset_risk,
    backtest,
    events_from_records,
    relative_rates,
    road_segment_risk,
    scenario_covariates,
    select_model,
    to_seconds,
)
from corridorguard.risk.backtest import region_grid, rolling_origins, tuning_origins
from corridorguard.risk.events import DAY
from corridorguard.risk.models import RiskModel
from corridorguard.risk.plot import render_heatmap
from corridorguard.routing.graph import RoadGraph
from corridorguard.scenario.model import Scenario

app = typer.Typer(no_args_is_help=True, help="Risk forecasting: backtest models, write forecasts.")

EVENTS = typer.Option(..., "--events", help="Incident file (CSV, CSV.gz or GeoJSON).")
FORMAT = typer.Option(..., "--format", help="ucdp | gtd | acled | csv | geojson")
MAPPING = typer.Option(
    None, "--mapping", help="Generic CSV: JSON object {field: column, time_format: ...} or a file."
)
SKIP_BAD = typer.Option(False, "--skip-bad", help="Leave bad rows out (listed on stderr).")
PRECISION = typer.Option(
    "downweight",
    "--precision",
    help="Imprecise events (where_prec>2 or date_prec>1): drop | downweight | keep.",
)
FACTOR = typer.Option(0.25, "--precision-factor", help="Weight of imprecise events (downweight).")
REGION = typer.Option(
    None,
    "--region",
    help="GeoJSON polygon of the region (default: cells "
    "within max(2 cells, 1 km) of the training events).",
)
CELL_KM = typer.Option(..., "--cell-km", help="Cell side in km.")
BUFFER_KM = typer.Option(None, "--buffer-km", help="Region buffer round the events (km).")
SCENARIO = typer.Option(
    None,
    "--scenario",
    help="Scenario (JSON/YAML file, folder or built-in "
    "name): adds ETAS with road/site covariates (backtest) or asset risk.",
)
SEED = typer.Option(0, "--seed", help="Bootstrap seed (recorded in the output).")
ROADS = typer.Option(
    None,
    "--roads",
    help="A real road network (.osm.pbf or GeoJSON lines): per-segment risk for "
    "`route convoy --roads ... --risk` (instead of --scenario).",
)
CORRIDOR_KM = typer.Option(
    None,
    "--corridor-km",
    help="Region = cells within this distance of the scenario's roads "
    "and sites, or of the --roads network (instead of --region).",
)


def _load_events(
    path: Path, fmt: str, mapping: str | None, skip_bad: bool, precision: str, factor: float
) -> Events:
    from corridorguard.incidents import read_incidents

    if not path.is_file():
        raise NotFoundError("no such file", file=str(path))
    mp: dict[str, Any] | None = None
    if mapping:
        text = Path(mapping).read_text(encoding="utf-8") if Path(mapping).is_file() else mapping
        try:
            mp = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--mapping is not JSON: {exc}", field="mapping") from exc
    with progress_bar("reading events") as update:
        result = read_incidents(path, fmt, mapping=mp, skip_bad=skip_bad, progress=update)
    for row in result.skipped:
        err_console.print(f"skipped {row}")
    if not result.records:
        raise ValidationError("the file holds no usable event", file=str(path))
    events = events_from_records(result.records)
    return apply_precision(events, PrecisionPolicy(mode=precision, factor=factor))  # type: ignore[arg-type]


def _load_scenario(value: str) -> Scenario:
    path = Path(value)
    if path.is_file() and path.suffix.lower() in (".json", ".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            return Scenario.model_validate(data)
        except Exception as exc:  # pydantic / yaml errors -> one line
            raise ValidationError(
                f"not a valid scenario: {exc}".splitlines()[0], file=value
            ) from exc
    loader = getattr(importlib.import_module("corridorguard.scenario"), "load_scenario", None)
    if loader is None:
        raise NotFoundError("no such scenario file", file=value)
    scenario: Scenario = loader(value)
    return scenario


def _region(region: Path | None, cell_km: float) -> Grid | None:
    if region is None:
        return None
    if not region.is_file():
        raise NotFoundError("no such region file", file=str(region))
    try:
        return Grid.from_geojson(region.read_text(encoding="utf-8"), cell_m=cell_km * 1000)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"not JSON: {exc}", file=str(region)) from exc


def _grid_option(
    region: Path | None,
    cell_km: float,
    scenario: Scenario | None,
    corridor_km: float | None,
    roads: RoadGraph | None = None,
) -> Grid | None:
    """The region from --region or --corridor-km (round the scenario or the road network; the
    road network's default is its nodes' neighbourhood), or None for the default (near the
    events)."""
    if corridor_km is None:
        if region is None and roads is not None:
            return Grid.around_points(roads.lon, roads.lat, cell_m=cell_km * 1000)
        return _region(region, cell_km)
    if scenario is None and roads is None:
        raise ConfigError("--corridor-km needs --scenario or --roads", field="corridor_km")
    if region is not None:
        raise ConfigError("give --region or --corridor-km, not both", field="corridor_km")
    if corridor_km <= 0:
        raise ConfigError("must be positive", field="corridor_km")
    if roads is not None:
        return Grid.around_points(
            roads.lon, roads.lat, cell_m=cell_km * 1000, buffer_m=corridor_km * 1000
        )
    assert scenario is not None
    return Grid.around_scenario(scenario, cell_m=cell_km * 1000, buffer_m=corridor_km * 1000)


def _models(names: str | None) -> list[str]:
    if not names:
        return list(DEFAULT_MODELS)
    out = [n.strip() for n in names.split(",") if n.strip()]
    bad = [n for n in out if n not in MODELS]
    if bad:
        raise ConfigError(f"unknown model(s) {bad} (known: {', '.join(MODELS)})", field="models")
    return out


@app.command("backtest")
def backtest_cmd(
    events_file: Path = EVENTS,
    fmt: str = FORMAT,
    cell_km: float = CELL_KM,
    start: str = typer.Option(..., "--start", help="First test origin (ISO date, UTC)."),
    end: str = typer.Option(..., "--end", help="Last test window ends by this date."),
    step_days: float = typer.Option(7.0, "--step-days", help="Days between origins."),
    horizon_days: float = typer.Option(7.0, "--horizon-days", help="Forecast horizon (days)."),
    models: str | None = typer.Option(None, "--models", help=f"Comma list of {', '.join(MODELS)}."),
    region: Path | None = REGION,
    buffer_km: float | None = BUFFER_KM,
    mapping: str | None = MAPPING,
    skip_bad: bool = SKIP_BAD,
    precision: str = PRECISION,
    precision_factor: float = FACTOR,
    no_tune: bool = typer.Option(False, "--no-tune", help="Use default hyper-parameters."),
    tune_origins: int = typer.Option(4, "--tune-origins", help="Origins in the tuning block."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap replicates."),
    scenario: str | None = SCENARIO,
    corridor_km: float | None = CORRIDOR_KM,
    seed: int = SEED,
    as_json: bool = JSON_OPTION,
) -> None:
    """Rolling-origin backtest: hit rate / PAI at 1-20 % area, log-likelihood, Brier."""
    if cell_km <= 0:
        raise ConfigError("must be positive", field="cell_km")
    ev = _load_events(events_file, fmt, mapping, skip_bad, precision, precision_factor)
    names: list[str | RiskModel] = list(_models(models))
    sc = _load_scenario(scenario) if scenario is not None else None
    grid = _grid_option(region, cell_km, sc, corridor_km)
    if sc is not None:
        if grid is None:
            origins = rolling_origins(start, end, step_days * DAY, horizon_days * DAY)
            tune = tuning_origins(
                ev, origins, step_days * DAY, horizon_days * DAY, 0 if no_tune else tune_origins
            )
            grid = region_grid(
                ev,
                (tune or origins)[0],
                cell_m=cell_km * 1000,
                buffer_m=None if buffer_km is None else buffer_km * 1000,
            )
        cov = scenario_covariates(sc, grid)
        etas_cov = ETASModel(grid, background="kde+covariates", covariates=cov)
        etas_cov.name = "etas_cov"
        names.append(etas_cov)
    with progress_bar("backtest") as update:
        res = backtest(
            ev,
            start=start,
            end=end,
            step=step_days * DAY,
            horizon=horizon_days * DAY,
            grid=grid,
            cell_m=cell_km * 1000,
            buffer_m=None if buffer_km is None else buffer_km * 1000,
            models=names,
            tune=not no_tune,
            n_tune_origins=tune_origins,
            n_boot=n_boot,
            seed=seed,
            progress=update,
        )
    doc = res.to_json()
    if as_json:
        print_json(doc)
        return
    _print_table(doc)


def _print_table(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{doc['n_origins']} origins, {doc['n_test_events']} test events")
    cols = list(next(iter(doc["models"].values()))["pai"])
    table.add_column("model")
    for c in cols:
        table.add_column(f"PAI@{float(c):.0%}", justify="right")
    table.add_column("loglik/event", justify="right")
    table.add_column("Brier", justify="right")
    for name, m in doc["models"].items():
        table.add_row(
            name,
            *(f"{m['pai'][c]:.2f}" for c in cols),
            f"{m['loglik_per_event']:.3f}",
            f"{m['brier']:.5f}",
        )
    console = Console()
    console.print(table)
    best = doc["best_model"]
    if best and "pai_ratio" in best:
        r = best["pai_ratio"]
        console.print(
            f"best: {best['name']}; PAI@5% ratio to {best['baseline']}: "
            f"{r['estimate']:.3f} (95% CI {r['low']:.3f}-{r['high']:.3f})"
        )


@app.command("forecast")
def forecast_cmd(
    events_file: Path = EVENTS,
    fmt: str = FORMAT,
    cell_km: float = CELL_KM,
    out: Path = typer.Option(..., "--out", help="Output folder."),
    model: str = typer.Option("auto", "--model", help="auto (select by backtest) or a model."),
    start: str | None = typer.Option(
        None, "--start", help="Forecast start (default: the day after the last event)."
    ),
    horizon_days: float = typer.Option(7.0, "--horizon-days", help="Forecast horizon (days)."),
    region: Path | None = REGION,
    buffer_km: float | None = BUFFER_KM,
    mapping: str | None = MAPPING,
    skip_bad: bool = SKIP_BAD,
    precision: str = PRECISION,
    precision_factor: float = FACTOR,
    scenario: str | None = SCENARIO,
    roads: Path | None = ROADS,
    corridor_km: float | None = CORRIDOR_KM,
    site_radius_km: float = typer.Option(5.0, "--site-radius-km", help="Zone round each site."),
    edge_buffer_km: float = typer.Option(2.0, "--edge-buffer-km", help="Band round each road."),
    seed: int = SEED,
    as_json: bool = JSON_OPTION,
) -> None:
    """Fit (or select) a model on all events; write the grid GeoJSON, a PNG heat map and, with a
    scenario or a road network, per-site and per-road risk as CSV and JSON, and the planning
    engines' `--risk` file (`planning_risk.json`)."""
    if cell_km <= 0:
        raise ConfigError("must be positive", field="cell_km")
    if scenario is not None and roads is not None:
        raise ConfigError("give --scenario or --roads, not both", field="roads")
    ev = _load_events(events_file, fmt, mapping, skip_bad, precision, precision_factor)
    t_start = to_seconds(start) if start else float(np.ceil(ev.t[-1] / DAY + 1e-9) * DAY)
    train = ev.before(t_start)
    if len(train) < 2:
        raise ValidationError("fewer than two events before the forecast start", field="start")
    sc = _load_scenario(scenario) if scenario is not None else None
    graph = None
    if roads is not None:
        from corridorguard._cli.route import read_roads

        with progress_bar("reading roads", total=None):
            graph = read_roads(roads)
    grid = _grid_option(region, cell_km, sc, corridor_km, graph) or Grid.around_events(
        train, cell_m=cell_km * 1000, buffer_m=None if buffer_km is None else buffer_km * 1000
    )
    info: dict[str, Any] = {}
    with progress_bar("forecast") as update:
        if model == "auto":
            sel = select_model(
                train, grid=grid, horizon_days=horizon_days, seed=seed, progress=update
            )
            fitted, chosen = sel.model, sel.name
            info["selection"] = sel.backtest.to_json()
        else:
            chosen = _models(model)[0]
            fitted = MODELS[chosen](grid).fit(train)
    lam = fitted.predict(t_start, horizon_days * DAY)
    out.mkdir(parents=True, exist_ok=True)
    written = _write_outputs(out, grid, lam, train, chosen, horizon_days)
    when = datetime.fromtimestamp(t_start, tz=UTC).isoformat()
    summary: dict[str, Any] = {
        "model": chosen,
        "params": {k: v for k, v in fitted.get_params().items() if k != "covariates"},
        "start": when,
        "horizon_days": horizon_days,
        "n_training_events": len(train),
        "n_cells": grid.n_active,
        "cell_km": cell_km,
        "expected_total": float(lam.sum()),
        **info,
    }
    if sc is not None:
        risk = asset_risk(
            sc,
            grid,
            lam,
            site_radius_m=site_radius_km * 1000,
            edge_buffer_m=edge_buffer_km * 1000,
            horizon_days=horizon_days,
        )
        written["assets_json"] = str(out / "asset_risk.json")
        (out / "asset_risk.json").write_text(json.dumps(risk.to_json(), indent=2), encoding="utf-8")
        rows = risk.rows()
        with open(out / "asset_risk.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["kind", "id"])
            writer.writeheader()
            writer.writerows(rows)
        written["assets_csv"] = str(out / "asset_risk.csv")
        planning = {
            "edges": relative_rates({e.id: e.expected / max(e.length_m, 1.0) for e in risk.edges}),
            "sites": relative_rates({s.id: s.expected for s in risk.sites}),
        }
        written["planning_risk"] = _write_planning(out, planning)
    if graph is not None:
        summary["roads"] = _road_outputs(out, graph, grid, lam, edge_buffer_km, written)
    summary["files"] = written
    (out / "forecast.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    if as_json:
        print_json(summary)
    else:
        typer.echo(
            f"{chosen}: {lam.sum():.2f} expected events over {horizon_days:g} days "
            f"from {when} in {grid.n_active} cells; wrote {', '.join(written.values())}"
        )


def _write_planning(out: Path, doc: dict[str, Any]) -> str:
    path = out / "planning_risk.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return str(path)


def _road_outputs(
    out: Path, graph: RoadGraph, grid: Grid, lam: Any, buffer_km: float, written: dict[str, str]
) -> dict[str, Any]:
    """Per-segment risk of a real road network (midpoint density; see
    :func:`corridorguard.risk.road_segment_risk`): a CSV and the `--risk` file."""
    first = np.full(graph.n_edges, -1, dtype=np.int64)
    first[graph.edge[::-1]] = np.arange(graph.n_arcs - 1, -1, -1)  # one arc of each edge
    arc = first[first >= 0]
    edges = graph.edge[arc]
    lon = (graph.lon[graph.tail[arc]] + graph.lon[graph.head[arc]]) / 2
    lat = (graph.lat[graph.tail[arc]] + graph.lat[graph.head[arc]]) / 2
    length = graph.length_m[arc]
    expected, inside = road_segment_risk(grid, lam, lon, lat, length, buffer_m=buffer_km * 1000)
    ids = [graph.edge_ids[int(e)] for e in edges]
    per_km = {
        eid: float(x / max(m / 1000.0, 1e-9))
        for eid, x, m in zip(ids, expected, length, strict=True)
    }
    rel = relative_rates(per_km)
    with open(out / "road_risk.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["edge", "lon", "lat", "length_m", "expected", "per_km", "relative", "in_region"]
        )
        for k, eid in enumerate(ids):
            w.writerow(
                [eid, lon[k], lat[k], length[k], expected[k], per_km[eid], rel[eid], int(inside[k])]
            )
    written["road_risk_csv"] = str(out / "road_risk.csv")
    written["planning_risk"] = _write_planning(out, {"edges": {str(k): v for k, v in rel.items()}})
    return {
        "segments": len(ids),
        "in_region": int(inside.sum()),
        "data_label": graph.label,
        "expected_total": float(expected.sum()),
    }


def _write_outputs(
    out: Path, grid: Grid, lam: Any, train: Events, name: str, horizon_days: float
) -> dict[str, str]:
    gj = grid.to_geojson(lam, name="expected")
    gj["properties"] = {"model": name, "horizon_days": horizon_days, "cell_m": grid.cell}
    (out / "risk_grid.geojson").write_text(json.dumps(gj), encoding="utf-8")
    render_heatmap(
        grid,
        lam,
        out / "risk_heatmap.png",
        points=(train.lon, train.lat),
        title=f"{name}: expected incidents per cell, next {horizon_days:g} days",
        label=f"expected incidents per cell ({horizon_days:g} days)",
    )
    return {"grid": str(out / "risk_grid.geojson"), "heatmap": str(out / "risk_heatmap.png")}
