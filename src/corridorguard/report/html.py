"""The plan report: one self-contained HTML file (inline CSS, figures as base64 PNG, no network).

``render_report(result, doc)`` takes a :class:`~corridorguard.pipeline.PlanResult` (for the
figures) and its ``plan.json`` document (for every number shown), so the report never shows a
number that ``plan.json`` does not hold.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corridorguard.report.figures import convoy_map, placement_map, what_if_plot

if TYPE_CHECKING:
    from corridorguard.pipeline.run import PlanResult

__all__ = ["render_report"]

CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:0;color:#1c2833;
background:#f4f6f7;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:26px;margin:8px 0 4px}h2{font-size:20px;border-bottom:2px solid #d5d8dc;
padding-bottom:4px;margin-top:34px}h3{font-size:16px;margin:18px 0 6px}
.sub{color:#566573;margin:0 0 12px}
.warn{background:#fff3cd;border:1px solid #e0a800;border-left:6px solid #c0392b;padding:10px 14px;
margin:12px 0;border-radius:4px}
.ok{background:#e9f7ef;border-left:6px solid #1e8449;padding:10px 14px;margin:12px 0}
.bad{background:#fdedec;border-left:6px solid #c0392b;padding:10px 14px;margin:12px 0}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600}
.b-red{background:#c0392b;color:#fff}.b-green{background:#1e8449;color:#fff}
.b-grey{background:#7f8c8d;color:#fff}
table{border-collapse:collapse;margin:8px 0 14px;font-size:13.5px;width:100%}
th,td{border:1px solid #d5d8dc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eaf2f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr:nth-child(even) td{background:#fbfcfc}
img{max-width:100%;border:1px solid #d5d8dc;border-radius:4px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:18px}
.small{font-size:12px;color:#566573}
.kpi{display:flex;gap:14px;flex-wrap:wrap;margin:10px 0}
.kpi div{flex:1;min-width:170px;background:#f8f9f9;border:1px solid #d5d8dc;border-radius:6px;
padding:8px 12px}.kpi b{display:block;font-size:20px}
"""


def _f(x: Any, digits: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, float)):
        if isinstance(x, int) or (float(x).is_integer() and abs(x) >= 100):
            return f"{x:,.0f}"
        return f"{x:,.{digits}g}" if abs(x) < 1e-2 and x != 0 else f"{x:,.{digits}f}"
    return escape(str(x))


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for v in row:
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            cells.append(f'<td class="n">{_f(v)}</td>' if num else f"<td>{_f(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="{cls}"><tr>{head}</tr>{"".join(body)}</table>'


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _ci(e: dict[str, Any] | None, digits: int = 2) -> str:
    if not e or e.get("mean") is None:
        return "–"
    return f"{e['mean']:.{digits}f} [{e['low']:.{digits}f}, {e['high']:.{digits}f}]"


def _patrol_png(r: PlanResult) -> bytes:
    from corridorguard.patrol.export import plot_day

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day0.png"
        plot_day(r.scenario, r.patrol.schedules[0], path, title="Joint patrol routes, day 1")
        return path.read_bytes()


def _header(doc: dict[str, Any]) -> str:
    labels = ", ".join(f"{k}: <b>{escape(str(v))}</b>" for k, v in doc["labels"].items())
    return (
        f"<h1>corridorguard plan — {escape(doc['title'] or doc['scenario'])}</h1>"
        f'<p class="sub">{doc["days"]} days · seed <b>{doc["seed"]}</b> · incidents: '
        f"{escape(doc['incidents'])} · corridorguard {escape(doc['corridorguard'])}</p>"
        '<div class="warn"><b>Data labels.</b> Nothing marked schematic or notional is surveyed '
        f"fact. {labels}. Lethality, hand-off delays, checkpoint delays and attacker behaviour "
        "are notional modelling inputs: the numbers <b>rank plans</b>, they do not predict "
        "casualties. Do not use for operations.</div>"
    )


def _answer(doc: dict[str, Any]) -> str:
    ans = doc["evaluation"]["answer"]
    plans = ans["plans"]
    rows = []
    for name, p in plans.items():
        diff = "baseline" if name == "static" else _ci(p["harm_vs_static"])
        rows.append(
            [
                name,
                _ci(p["harm"]),
                diff,
                _ci(p["interdicted"], 3),
                p["delay_vehicle_hours_per_day"],
                p["stops_per_day"],
            ]
        )
    opt = plans["optimised"]["harm_vs_static"]
    cls = "ok" if opt["high"] is not None and opt["high"] < 0 else "bad"
    coord = ans["value_of_coordination_harm"]["uncoordinated_minus_optimised"]
    return (
        "<h2>Are current measures enough?</h2>"
        f'<div class="{cls}"><b>{escape(ans["verdict"].capitalize())}.</b> Expected harm per '
        "attacker-day (notional casualties; lower is better), with 95% confidence intervals; "
        "differences are paired on common random numbers.</div>"
        + _table(
            [
                "plan",
                "harm / attacker-day",
                "vs static",
                "interdicted",
                "civilian delay (vehicle-h/day)",
                "vehicle stops/day",
            ],
            rows,
        )
        + f"<p>Value of coordination (harm, uncoordinated − joint): <b>{_ci(coord)}</b>.</p>"
    )


def _forecast(doc: dict[str, Any]) -> str:
    fc = doc["forecast"]
    badge = (
        '<span class="badge b-green">VALIDATED by backtest</span>'
        if fc["validated"]
        else '<span class="badge b-red">NOT VALIDATED — prior</span>'
    )
    box = "ok" if fc["validated"] else "warn"
    out = [
        f"<h2>Forecast {badge}</h2>",
        f'<div class="{box}">Model <b>{escape(fc["model"])}</b>: {escape(fc["reason"])}.</div>',
        f"<p>{fc['n_events']} incidents; horizon {fc['horizon_days']:.0f} days from "
        f"{escape(fc['start'][:10])}; {fc['n_cells']} cells of {fc['cell_m'] / 1000:.0f} km; "
        f"expected incidents in the corridor: {_f(fc['expected_total'])}.</p>",
    ]
    if fc.get("backtest"):
        bt = fc["backtest"]
        rows = [[k, v.get("pai_5"), v.get("loglik_per_event")] for k, v in bt["models"].items()]
        out.append(f"<h3>Backtest: {bt.get('n_origins')} weekly origins, "
                   f"{bt.get('n_test_events')} test incidents</h3>")  # fmt: skip
        out.append(_table(["model", "PAI@5%", "log-lik / event"], rows))
        best = bt.get("best_model") or {}
        ratio = best.get("pai_ratio")
        if ratio:
            out.append(
                f"<p>Chosen: <b>{escape(str(best.get('name')))}</b>; PAI@5% ratio to the best "
                f"other baseline ({escape(str(best.get('baseline')))}): {ratio['estimate']:.2f} "
                f"[{ratio['low']:.2f}, {ratio['high']:.2f}] (block bootstrap, "
                f"{ratio['n_boot']} replicates). An interval containing 1 means the choice is "
                "not clearly better than that baseline.</p>"
            )
    rows = [[s["name"], s["expected"], s["coverage"]] for s in fc["top_sites"]]
    out.append("<h3>Sites by expected incidents</h3>")
    out.append(_table(["site", "expected incidents", "forecast coverage"], rows))
    return "".join(out)


def _patrols(r: PlanResult, doc: dict[str, Any]) -> str:
    p = doc["patrols"]
    g = doc["game"]
    pred = p.get("predictability", {})
    dep = g.get("deployed", {})
    guard_rows = [
        [
            sid,
            dep.get("optimised", {}).get(sid),
            dep.get("uncoordinated", {}).get(sid),
            g["joint"]["coverage"].get(sid),
        ]
        for sid in g["joint"]["coverage"]
    ]
    seen: dict[str, dict[str, Any]] = {}
    for x in p.get("gaps", []):
        row = seen.setdefault(str(x.get("id")), {"kind": x.get("kind"), "slots": 0, "value": 0.0})
        row["slots"] += 1
        row["value"] = max(row["value"], float(x.get("value") or 0.0))
    gaps = [[v["kind"], k, v["slots"], v["value"]] for k, v in seen.items()]
    return (
        "<h2>Joint patrol plan (both forces)</h2>"
        '<div class="kpi">'
        f"<div>route game: value of coordination<b>{_f(p['value_of_coordination'])}</b></div>"
        f"<div>site game: value of coordination<b>{_f(g['value_of_coordination'])}</b></div>"
        f"<div>unpredictability<b>{_f(pred.get('entropy_bits_per_day'))} bits/day</b></div>"
        f"<div>patrol solver<b>{escape(str(p['solver']))}</b></div></div>"
        + _img(_patrol_png(r), "patrol routes map")
        + "<h3>Site-guard posts (games engine): share of days each site has a guard</h3>"
        + "<p class='small'>Deployed: quantal-response solution (the attacker model the plan is "
        "evaluated against), drawn afresh each day. The SSE column is the strong Stackelberg "
        "solution the value of coordination is computed on; it leaves posts idle once the "
        "attacked site is settled.</p>"
        + _table(["site", "joint (deployed)", "each force alone", "joint SSE"], guard_rows)
        + "<h3>Gaps: targets no patrol crew can reach within a shift</h3>"
        + _table(["kind", "id", "hour slots", "value"], gaps)
    )


def _placement(r: PlanResult, doc: dict[str, Any]) -> str:
    pl = r.placements
    cps = [e for c in pl.checkpoints.values() for e in c.selected_]
    cams = [n for p in pl.cameras.values() for n in p.selected_]
    drones = [n for p in pl.drones.values() for n in p.selected_]
    bases = [q.bases[0] for q in pl.qrf_opt.values()]
    png = placement_map(r.scenario, checkpoints=cps, cameras=cams, drones=drones, qrf_bases=bases)
    cp_rows = []
    for f, c in doc["checkpoints"]["optimised"].items():
        for x in c["checkpoints"]:
            cp_rows.append([f, x["edge"], x["traffic_vph"], x["burden_vehicle_hours_per_day"]])
    s_rows = []
    for kind in ("cameras", "drones"):
        for u, s in doc["sensors"][kind].items():
            s_rows.append(
                [u, kind[:-1], s["count"], s["range_m"], s["coverage_share"], s["status"]]
            )
    q_rows = [
        [
            u,
            q["current"]["bases"][0],
            q["current"]["share_within"],
            (q["optimised"] or {}).get("bases", ["–"])[0],
            (q["optimised"] or {}).get("share_within"),
        ]
        for u, q in doc["qrf"].items()
        if u != "placement"
    ]
    return (
        "<h2>Checkpoints, sensors and QRF</h2>"
        + _img(png, "placement map")
        + '<div class="grid"><div><h3>Checkpoints (day shift 06–18)</h3>'
        + _table(["force", "segment", "traffic (veh/h)", "delay burden (veh-h/day)"], cp_rows)
        + "</div><div><h3>Sensors</h3>"
        + _table(["unit", "kind", "count", "range (m)", "risk covered", "status"], s_rows)
        + "<h3>Quick-reaction forces</h3>"
        + "<p class='small'>Share of risk-weighted demand reachable within 30 minutes, from "
        "today's base and from the base chosen by p-median placement (optimised plans).</p>"
        + _table(["unit", "current base", "reach", "optimised base", "reach"], q_rows)
        + "</div></div>"
    )


def _convoys(r: PlanResult, doc: dict[str, Any]) -> str:
    rows = []
    for _cid, c in doc["convoys"].items():
        for rt in c["routes"]:
            rows.append(
                [
                    c["name"],
                    rt["index"],
                    rt["eta_min"],
                    rt["distance_m"] / 1000.0,
                    rt["exposure"],
                    rt["probability"],
                    " – ".join(rt["depart_window"] or []),
                ]
            )
    choke = [[c["name"], ", ".join(c["chokepoints"][:6])] for c in doc["convoys"].values()]
    return (
        "<h2>Convoys</h2>"
        + _img(convoy_map(r.scenario, r.convoys), "convoy routes map")
        + _table(
            ["movement", "route", "ETA (min)", "km", "exposure", "P(use)", "departure window"],
            rows,
        )
        + "<h3>Chokepoints (on every alternative: escort and checkpoint candidates)</h3>"
        + _table(["movement", "segments"], choke)
    )


def _evaluation(r: PlanResult, doc: dict[str, Any]) -> str:
    ev = doc["evaluation"]
    rows = [
        [
            x["plan"], x["metric"], x["mean"], f"[{_f(x['low'])}, {_f(x['high'])}]",
            x["diff_vs_baseline"], f"[{_f(x['diff_low'])}, {_f(x['diff_high'])}]",
            x["significant"],
        ]
        for x in ev["table"]
    ]  # fmt: skip
    wi = ev["what_if"]["curves"]
    m_rows = []
    for res_name, curve in wi.items():
        for p in curve[1:]:
            m_rows.append(
                [
                    f"+{p['level']} {res_name}",
                    _ci(p["harm"]),
                    _ci(p.get("marginal")),
                    p.get("marginal_per_unit"),
                    p["delay_vehicle_hours_per_day"],
                ]
            )
    sz = ev["sizes"]
    return (
        "<h2>Evaluation by simulation</h2>"
        f"<p>{sz['compare_days']:,} simulated attacker-days per plan (what-if: "
        f"{sz['what_if_days']:,} per point), quantal-response attacker who sees visible units; "
        "seeded, bit-reproducible.</p>"
        + _table(
            ["plan", "metric", "mean", "95% CI", "diff vs static", "95% CI", "significant"], rows
        )
        + "<h3>Marginal value of more resources</h3>"
        + _img(what_if_plot(r.what_if.curves), "what-if plot")
        + _table(
            ["addition", "harm", "change vs previous level", "per unit", "delay veh-h/day"],
            m_rows,
        )
    )


def _burden(doc: dict[str, Any]) -> str:
    rows = []
    for name, b in doc["civilian_burden"].items():
        p = doc["evaluation"]["answer"]["plans"][name]
        rows.append(
            [
                name,
                b["delay_vehicle_hours"]["mean_per_day"],
                b["stops"]["mean_per_day"],
                b["staffed_unit_hours"]["mean_per_day"],
                _ci(p["harm"]),
                _ci(p["interdicted"], 3),
            ]
        )
    return (
        "<h2>Accountability: what the plan costs civilians, and what it buys</h2>"
        "<p>Aggregate traffic only (notional counts): no person is modelled, stored or "
        "inferred.</p>"
        + _table(
            [
                "plan",
                "delay (vehicle-hours/day)",
                "vehicles stopped/day",
                "staffed unit-hours/day",
                "buys: harm / attacker-day",
                "buys: share interdicted",
            ],
            rows,
        )
    )


def _assumptions(doc: dict[str, Any]) -> str:
    a = doc["evaluation"]["assumptions"]
    return "<h2>Modelling assumptions (notional)</h2>" + _table(
        ["input", "value"], [[k, v] for k, v in a.items()]
    )


def _attribution(doc: dict[str, Any]) -> str:
    items = "".join(f"<li>{escape(a)}</li>" for a in doc["attribution"])
    return (
        "<h2>Data and attributions</h2><ul>" + items + "<li>Incident layer: publicly reported "
        "attacks, summarised in our own words (see the incidents documentation); UCDP GED data "
        "when used: CC BY 4.0. Road data from OpenStreetMap when imported: © OpenStreetMap "
        "contributors, ODbL 1.0.</li></ul>"
        f'<p class="small">Seed {doc["seed"]} · reproduce with <code>corridorguard plan '
        f"--scenario {escape(doc['scenario'])} --days {doc['days']} --seed {doc['seed']}"
        "</code>.</p>"
    )


def render_report(r: PlanResult, doc: dict[str, Any]) -> str:
    """The whole report as one HTML string."""
    parts = [
        _header(doc),
        _answer(doc),
        _forecast(doc),
        _patrols(r, doc),
        _placement(r, doc),
        _convoys(r, doc),
        _evaluation(r, doc),
        _burden(doc),
        _assumptions(doc),
        _attribution(doc),
    ]
    title = escape(f"corridorguard plan — {doc['scenario']} (seed {doc['seed']})")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{CSS}</style></head><body><main>"
        + "".join(parts)
        + "</main></body></html>"
    )
