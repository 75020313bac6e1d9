"""Build the built-in ``cpec`` scenario folder from the shared geodata.

Reads ``../shared/data/geo/pakistan_places_geonames.geojson`` (GeoNames, CC BY 4.0) and
``../shared/data/geo/pakistan_boundary_ne10m.geojson`` (Natural Earth, public domain) and writes
``src/corridorguard/scenario/builtin/cpec/`` (scenario.yaml + GeoJSON layers). Run from the
project root::

    PYTHONPATH=src python scripts/build_cpec_scenario.py [--geo ../shared/data/geo]

What is real and what is not:

* nodes: real towns (GeoNames coordinates, ``source: geonames:<id>``, province = GeoNames admin1
  name) plus a few hand-entered points (passes, junctions, towns missing from ``cities500``)
  flagged ``approximate: true``;
* roads: a SCHEMATIC skeleton: consecutive towns along each named route joined by a straight
  segment whose length is great-circle distance × a terrain circuity factor
  (:data:`corridorguard.scenario.geo.DEFAULT_CIRCUITY`); speeds by road class and terrain;
  traffic volumes NOTIONAL;
* sites: approximate coordinates from public reporting; criticality and worker counts NOTIONAL;
* forces, units and movements: entirely NOTIONAL.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from corridorguard.scenario.export import write_scenario_folder  # noqa: E402
from corridorguard.scenario.geo import (  # noqa: E402
    DEFAULT_CIRCUITY,
    DEFAULT_SPEED_KMH,
    schematic_length_m,
)
from corridorguard.scenario.model import (  # noqa: E402
    Edge,
    Force,
    Jurisdiction,
    Movement,
    Node,
    Scenario,
    Site,
    Unit,
)

OUT = ROOT / "src" / "corridorguard" / "scenario" / "builtin" / "cpec"

# --- nodes ----------------------------------------------------------------------------------
# node id -> GeoNames id (cities500). Ids chosen where names are ambiguous (two Sahiwals).
GEONAMES: dict[str, int] = {
    "karimabad": 1183614, "aliabad": 1184701, "gilgit": 1178338, "jaglot": 1176470,
    "chilas": 1181138, "dasu": 7427390, "mansehra": 1170951, "abbottabad": 1185056,
    "havelian": 1176995, "haripur": 1177107, "islamabad": 1176615, "rawalpindi": 1166993,
    "attock": 1184249, "jahangira": 1176452, "akora_khattak": 1184752, "nowshera": 1168864,
    "peshawar": 1168197, "kallar_kahar": 1175232, "bhera": 1182665, "pindi_bhattian": 1168021,
    "lahore": 1172451, "faisalabad": 1179400, "gojra": 1178231, "pir_mahal": 1167873,
    "khanewal": 1174220, "multan": 1169825, "pattoki": 1168226, "renala_khurd": 1166933,
    "okara": 1168718, "sahiwal": 1166548, "chichawatni": 1181163, "jalalpur_pirwala": 1176358,
    "zahir_pir": 1162275, "rahim_yar_khan": 1167460, "ghotki": 1178456, "pano_aqil": 1168412,
    "sukkur": 1164408, "ranipur": 1167142, "kandiaro": 1175010, "moro": 1170013,
    "sakrand": 1166381, "hala": 1177278, "hyderabad": 1176734, "kotri": 1172904,
    "nooriabad": 6696322, "karachi": 1174872, "gharo": 1178587, "thatta": 1163582,
    "badin": 1184055, "mithi": 1170219, "islamkot": 1176608, "hub": 12524485,
    "uthal": 1162862, "bela": 1182998, "khuzdar": 1173664, "surab": 1164306, "kalat": 1175296,
    "mastung": 1170706, "quetta": 1167528, "ormara": 1168700, "pasni": 1168312,
    "gwadar": 1177446, "jiwani": 1175712, "dera_ismail_khan": 1180281, "zhob": 1162105,
    "qila_saifullah": 1167550, "pindi_gheb": 1168015, "mianwali": 1170425, "kohat": 1173491,
    "karak": 1174074, "taunsa": 1163724, "dera_ghazi_khan": 1180289, "rajanpur": 1167380,
    "shikarpur": 1165108, "larkana": 1172128, "dadu": 1180809, "sehwan": 1165789,
    "sibi": 1164896, "dera_murad_jamali": 1397479, "jacobabad": 1176515, "panjgur": 1168446,
    "turbat": 1163054, "kahuta": 1175436, "kotli": 1173055,
}  # fmt: skip

# Hand-entered points (not in GeoNames cities500): (name, lon, lat, province, note).
# Coordinates rounded to ~0.01 degrees from public maps; all flagged approximate.
HAND: dict[str, tuple[str, float, float, str]] = {
    "khunjerab": ("Khunjerab Pass", 75.428, 36.850, "Gilgit-Baltistan"),
    "sost": ("Sost (Sust)", 74.817, 36.690, "Gilgit-Baltistan"),
    "pattan": ("Pattan", 72.944, 35.033, "Khyber Pakhtunkhwa"),
    "besham": ("Besham", 72.875, 34.924, "Khyber Pakhtunkhwa"),
    "thakot": ("Thakot", 72.917, 34.833, "Khyber Pakhtunkhwa"),
    "batagram": ("Batagram", 73.023, 34.680, "Khyber Pakhtunkhwa"),
    "burhan": ("Burhan (M-1/E-35/M-14 interchange near Hakla)", 72.680, 33.830, "Punjab"),
    "rashakai": ("Rashakai (M-1 interchange)", 72.000, 34.090, "Khyber Pakhtunkhwa"),
    "bin_qasim": ("Bin Qasim (N-5)", 67.330, 24.840, "Sindh"),
    "kund_malir": ("Kund Malir (N-10)", 65.470, 25.400, "Balochistan"),
    "basima": ("Basima (Besima)", 65.867, 27.909, "Balochistan"),
    "hoshab": ("Hoshab", 63.883, 26.017, "Balochistan"),
    "balakot": ("Balakot", 73.350, 34.548, "Khyber Pakhtunkhwa"),
}

# --- roads ----------------------------------------------------------------------------------
# (route, road class, [node, terrain, node, terrain, node, ...]): terrain of each segment
# sits between its two end nodes.
ROUTES: list[tuple[str, str, list[str]]] = [
    ("N-35", "national_highway", [
        "khunjerab", "mountain", "sost", "mountain", "karimabad", "mountain", "aliabad",
        "mountain", "gilgit", "mountain", "jaglot", "mountain", "chilas", "mountain", "dasu",
        "mountain", "pattan", "mountain", "besham", "mountain", "thakot", "hill", "batagram",
        "hill", "mansehra", "hill", "abbottabad", "hill", "havelian"]),
    ("E-35", "motorway", ["havelian", "hill", "haripur", "plain", "burhan"]),
    ("M-1", "motorway", ["islamabad", "plain", "burhan", "plain", "rashakai", "plain", "peshawar"]),
    ("N-5", "national_highway", [
        "rawalpindi", "plain", "attock", "plain", "jahangira", "plain", "akora_khattak", "plain",
        "nowshera", "plain", "peshawar"]),
    ("Islamabad Expressway", "expressway", ["islamabad", "plain", "rawalpindi"]),
    ("M-2", "motorway", [
        "islamabad", "hill", "kallar_kahar", "hill", "bhera", "plain", "pindi_bhattian", "plain",
        "lahore"]),
    ("M-4", "motorway", [
        "pindi_bhattian", "plain", "faisalabad", "plain", "gojra", "plain", "pir_mahal", "plain",
        "khanewal", "plain", "multan"]),
    ("N-5", "national_highway", [
        "lahore", "plain", "pattoki", "plain", "renala_khurd", "plain", "okara", "plain",
        "sahiwal", "plain", "chichawatni", "plain", "khanewal"]),
    ("M-5", "motorway", [
        "multan", "plain", "jalalpur_pirwala", "plain", "zahir_pir", "plain", "rahim_yar_khan",
        "plain", "ghotki", "plain", "pano_aqil", "plain", "sukkur"]),
    ("M-6/N-5", "national_highway", [
        "sukkur", "plain", "ranipur", "plain", "kandiaro", "plain", "moro", "plain", "sakrand",
        "plain", "hala", "plain", "hyderabad"]),
    ("M-9", "motorway", [
        "hyderabad", "plain", "kotri", "desert", "nooriabad", "desert", "karachi"]),
    ("N-5", "national_highway", [
        "karachi", "coastal", "bin_qasim", "coastal", "gharo", "coastal", "thatta", "plain",
        "hyderabad"]),
    ("Thar coal road", "provincial", [
        "thatta", "plain", "badin", "desert", "mithi", "desert", "islamkot"]),
    ("N-25", "national_highway", [
        "karachi", "plain", "hub", "plain", "uthal", "plain", "bela", "hill", "khuzdar", "hill",
        "surab", "hill", "kalat", "hill", "mastung", "hill", "quetta"]),
    ("N-10", "national_highway", [
        "hub", "coastal", "kund_malir", "coastal", "ormara", "coastal", "pasni", "coastal",
        "gwadar", "coastal", "jiwani"]),
    ("M-14", "motorway", ["burhan", "plain", "pindi_gheb", "hill", "mianwali", "plain",
                          "dera_ismail_khan"]),
    ("N-50", "national_highway", [
        "dera_ismail_khan", "hill", "zhob", "hill", "qila_saifullah", "hill", "quetta"]),
    ("N-85", "national_highway", [
        "surab", "hill", "basima", "desert", "panjgur", "desert", "hoshab"]),
    ("M-8", "national_highway", ["hoshab", "desert", "turbat", "desert", "gwadar"]),
    ("N-55", "national_highway", [
        "peshawar", "hill", "kohat", "hill", "karak", "hill", "dera_ismail_khan", "plain",
        "taunsa", "plain", "dera_ghazi_khan", "plain", "rajanpur", "plain", "shikarpur",
        "plain", "larkana", "plain", "dadu", "plain", "sehwan", "hill", "kotri"]),
    ("N-70", "national_highway", ["multan", "plain", "dera_ghazi_khan"]),
    ("N-65", "national_highway", [
        "quetta", "mountain", "sibi", "plain", "dera_murad_jamali", "plain", "jacobabad",
        "plain", "shikarpur", "plain", "sukkur"]),
    ("Kahuta–Kotli road", "provincial", ["rawalpindi", "hill", "kahuta", "hill", "kotli"]),
    ("N-15", "national_highway", ["mansehra", "mountain", "balakot"]),
]  # fmt: skip

# Notional traffic (vehicles per hour, both directions, daytime average) by road class.
TRAFFIC_VPH = {
    "motorway": 900.0,
    "expressway": 1500.0,
    "national_highway": 400.0,
    "provincial": 150.0,
    "local": 60.0,
}
# Busy urban approaches carry more (notional multiplier on segments touching these cities).
URBAN = {"karachi", "lahore", "islamabad", "rawalpindi", "peshawar", "hyderabad", "multan",
         "faisalabad", "quetta"}  # fmt: skip

# --- sites ----------------------------------------------------------------------------------
# (id, name, type, lon, lat, criticality, workers, operator or None (generic), province, node)
SITES: list[tuple[str, str, str, float, float, float, int, str | None, str, str]] = [
    ("gwadar_port", "Gwadar Port", "port", 62.345, 25.113, 5, 1200,
     "China Overseas Ports Holding Company (public reporting)", "Balochistan", "gwadar"),
    ("gwadar_airport", "New Gwadar International Airport", "airport", 62.55, 25.29, 4, 400,
     None, "Balochistan", "gwadar"),
    ("gwadar_east_bay", "Gwadar East Bay Expressway (mid-point)", "expressway", 62.38, 25.13,
     3, 150, None, "Balochistan", "gwadar"),
    ("dasu_hpp", "Dasu hydropower project (dam site)", "hydropower", 73.33, 35.31, 5, 3000,
     "WAPDA (public reporting)", "Khyber Pakhtunkhwa", "dasu"),
    ("diamer_bhasha", "Diamer-Bhasha dam (site)", "dam", 73.74, 35.52, 5, 2500,
     "WAPDA (public reporting)", "Gilgit-Baltistan", "chilas"),
    ("karot_hpp", "Karot hydropower project", "hydropower", 73.61, 33.61, 4, 800, None,
     "Punjab", "kahuta"),
    ("suki_kinari_hpp", "Suki Kinari hydropower project", "hydropower", 73.52, 34.77, 4, 900,
     None, "Khyber Pakhtunkhwa", "balakot"),
    ("port_qasim_coal", "Port Qasim coal power plant", "power_plant", 67.37, 24.79, 4, 700,
     None, "Sindh", "bin_qasim"),
    ("sahiwal_coal", "Sahiwal coal power plant", "power_plant", 73.18, 30.60, 4, 700, None,
     "Punjab", "sahiwal"),
    ("thar_block2", "Thar coal block II (near Islamkot)", "coal_mine", 70.27, 24.80, 4, 1500,
     None, "Sindh", "islamkot"),
    ("sost_dry_port", "Sost dry port", "dry_port", 74.83, 36.70, 3, 200, None,
     "Gilgit-Baltistan", "sost"),
    ("havelian_dry_port", "Havelian dry port", "dry_port", 73.14, 34.06, 2, 150, None,
     "Khyber Pakhtunkhwa", "havelian"),
    ("orange_line_depot", "Lahore Orange Line depot (Dera Gujran)", "depot", 74.43, 31.60, 3,
     300, None, "Punjab", "lahore"),
    ("hub_coal", "Hub coal power plant", "power_plant", 66.70, 24.91, 4, 600, None,
     "Balochistan", "hub"),
    ("karachi_k2k3", "Karachi nuclear power plant units K-2/K-3", "power_plant", 66.79, 24.85,
     5, 1000, None, "Sindh", "karachi"),
    ("karachi_port", "Karachi port area", "port", 66.98, 24.84, 5, 2000, None, "Sindh",
     "karachi"),
    ("rashakai_sez", "Rashakai special economic zone", "sez", 72.02, 34.06, 3, 500, None,
     "Khyber Pakhtunkhwa", "rashakai"),
    ("dhabeji_sez", "Dhabeji special economic zone", "sez", 67.52, 24.78, 3, 300, None,
     "Sindh", "gharo"),
    ("matiari_converter", "Matiari converter station (Matiari–Lahore HVDC line)",
     "converter_station", 68.45, 25.60, 4, 150, None, "Sindh", "hala"),
]  # fmt: skip

GENERIC_OPERATOR = "project company (notional)"

ATTRIBUTION = (
    "Contains data from GeoNames (geonames.org), CC BY 4.0.",
    "Made with Natural Earth (naturalearthdata.com), public domain.",
    "Road graph: schematic skeleton built by corridorguard; not a surveyed network.",
)

LABELS = {
    "nodes": "real",
    "roads": "schematic",
    "traffic": "notional",
    "sites": "approximate",
    "forces": "notional",
    "movements": "notional",
    "boundary": "real",
}


def _unit(uid: str, kind: str, count: int, base: str, **kw: Any) -> Unit:
    return Unit(id=uid, kind=kind, count=count, base=base, notional=True, **kw)  # type: ignore[arg-type]


def forces() -> tuple[Force, ...]:
    """Two NOTIONAL partner forces with different jurisdictions."""
    north = Force(
        id="force_a",
        name="Partner force A (notional): northern provinces",
        jurisdiction=Jurisdiction(
            provinces=(
                "Gilgit-Baltistan",
                "Khyber Pakhtunkhwa",
                "Islamabad Capital Territory",
                "Punjab",
                "Azad Kashmir",
            )
        ),
        units=(
            _unit("a_patrol_kkh", "patrol", 8, "chilas", speed_kmh=40, detection_prob=0.35,
                  interdiction_prob=0.5),
            _unit("a_patrol_hazara", "patrol", 6, "abbottabad", speed_kmh=50,
                  detection_prob=0.35, interdiction_prob=0.5),
            _unit("a_patrol_punjab", "patrol", 10, "lahore", speed_kmh=80, detection_prob=0.3,
                  interdiction_prob=0.5),
            _unit("a_checkpoint", "checkpoint", 12, "dasu", speed_kmh=30, shift_hours=12,
                  detection_prob=0.6, interdiction_prob=0.5),
            _unit("a_qrf_gilgit", "qrf", 2, "gilgit", speed_kmh=50, detection_prob=0.1,
                  interdiction_prob=0.8),
            _unit("a_qrf_islamabad", "qrf", 3, "islamabad", speed_kmh=80, detection_prob=0.1,
                  interdiction_prob=0.85),
            _unit("a_drone", "drone", 4, "besham", speed_kmh=90, shift_hours=12,
                  detection_prob=0.6, interdiction_prob=0.05, range_km=40, endurance_min=90),
            _unit("a_camera", "camera", 20, "havelian", speed_kmh=1, shift_hours=24,
                  detection_prob=0.5, interdiction_prob=0.0, range_km=1.0),
        ),
    )  # fmt: skip
    south = Force(
        id="force_b",
        name="Partner force B (notional): southern provinces",
        jurisdiction=Jurisdiction(provinces=("Sindh", "Balochistan")),
        units=(
            _unit("b_patrol_makran", "patrol", 8, "gwadar", speed_kmh=70, detection_prob=0.3,
                  interdiction_prob=0.5),
            _unit("b_patrol_sindh", "patrol", 10, "karachi", speed_kmh=70, detection_prob=0.3,
                  interdiction_prob=0.5),
            _unit("b_patrol_n25", "patrol", 6, "khuzdar", speed_kmh=60, detection_prob=0.3,
                  interdiction_prob=0.45),
            _unit("b_checkpoint", "checkpoint", 14, "turbat", speed_kmh=30, shift_hours=12,
                  detection_prob=0.6, interdiction_prob=0.5),
            _unit("b_qrf_gwadar", "qrf", 2, "gwadar", speed_kmh=70, detection_prob=0.1,
                  interdiction_prob=0.8),
            _unit("b_qrf_karachi", "qrf", 3, "karachi", speed_kmh=60, detection_prob=0.1,
                  interdiction_prob=0.85),
            _unit("b_drone", "drone", 4, "gwadar", speed_kmh=100, shift_hours=12,
                  detection_prob=0.6, interdiction_prob=0.05, range_km=50, endurance_min=120),
            _unit("b_camera", "camera", 30, "karachi", speed_kmh=1, shift_hours=24,
                  detection_prob=0.5, interdiction_prob=0.0, range_km=1.0),
        ),
    )  # fmt: skip
    return (north, south)


MOVEMENTS = (
    Movement(id="dasu_islamabad", name="Dasu–Islamabad worker convoy (notional)",
             origin="dasu", destination="islamabad", window_start=time(6, 0),
             window_end=time(8, 0), people=120, vehicles=10),
    Movement(id="gwadar_karachi", name="Gwadar–Karachi engineers' convoy (notional)",
             origin="gwadar", destination="karachi", window_start=time(5, 30),
             window_end=time(7, 0), people=30, vehicles=4),
    Movement(id="karot_islamabad", name="Karot–Islamabad staff transfer (notional)",
             origin="kahuta", destination="islamabad", window_start=time(7, 0),
             window_end=time(9, 0), people=60, vehicles=5),
    Movement(id="thar_karachi", name="Thar coal block–Karachi crew change (notional)",
             origin="islamkot", destination="karachi", window_start=time(6, 0),
             window_end=time(8, 0), people=40, vehicles=4),
    Movement(id="sost_gilgit", name="Sost dry port–Gilgit staff shuttle (notional)",
             origin="sost", destination="gilgit", window_start=time(8, 0),
             window_end=time(10, 0), people=20, vehicles=3),
)  # fmt: skip


def build_nodes(places: dict[int, dict[str, Any]]) -> list[Node]:
    nodes = []
    for nid, gid in GEONAMES.items():
        feat = places[gid]
        lon, lat = feat["geometry"]["coordinates"]
        props = feat["properties"]
        nodes.append(
            Node(id=nid, name=props["name"], lon=lon, lat=lat, province=props["admin1"],
                 approximate=False, source=f"geonames:{gid}")
        )  # fmt: skip
    for nid, (name, lon, lat, province) in HAND.items():
        nodes.append(
            Node(id=nid, name=name, lon=lon, lat=lat, province=province, approximate=True,
                 source="hand-entered")
        )  # fmt: skip
    return nodes


def build_edges(nodes: dict[str, Node]) -> list[Edge]:
    edges = []
    for route, road_class, seq in ROUTES:
        stops, terrains = seq[0::2], seq[1::2]
        for a, terrain, b in zip(stops[:-1], terrains, stops[1:], strict=True):
            na, nb = nodes[a], nodes[b]
            traffic = TRAFFIC_VPH[road_class] * (2.0 if {a, b} & URBAN else 1.0)
            edges.append(
                Edge(
                    id=f"{a}__{b}",
                    source=a,
                    target=b,
                    route=route,
                    road_class=road_class,  # type: ignore[arg-type]
                    terrain=terrain,  # type: ignore[arg-type]
                    length_m=schematic_length_m(na.lon, na.lat, nb.lon, nb.lat, terrain),
                    speed_kmh=DEFAULT_SPEED_KMH[road_class][terrain],
                    traffic_vph=traffic,
                )
            )
    return edges


def build_sites() -> list[Site]:
    sites = []
    for sid, name, kind, lon, lat, crit, workers, operator, province, node in SITES:
        notional = ["criticality", "workers"] + ([] if operator else ["operator"])
        sites.append(
            Site(id=sid, name=name, type=kind, lon=lon, lat=lat, criticality=crit,
                 workers=workers, operator=operator or GENERIC_OPERATOR, province=province,
                 node=node, approximate=True, notional_fields=tuple(notional))
        )  # fmt: skip
    return sites


def build(geo: Path) -> Scenario:
    places_fc = json.loads((geo / "pakistan_places_geonames.geojson").read_text("utf-8"))
    places = {f["properties"]["geonameid"]: f for f in places_fc["features"]}
    boundary_fc = json.loads((geo / "pakistan_boundary_ne10m.geojson").read_text("utf-8"))
    nodes = build_nodes(places)
    by_id = {n.id: n for n in nodes}
    return Scenario(
        name="cpec",
        title="China–Pakistan Economic Corridor (schematic road skeleton)",
        description=(
            "Built-in demonstration scenario. Nodes are real towns (GeoNames) plus hand-entered "
            "passes and junctions flagged approximate; the road graph is a SCHEMATIC skeleton "
            "(straight segments between consecutive towns on each named route, length = "
            "great-circle distance x terrain circuity factor), not a surveyed network; site "
            "coordinates are approximate; criticality, worker counts, traffic volumes, forces, "
            "units and movements are NOTIONAL. Do not use for operations."
        ),
        labels=LABELS,
        attribution=ATTRIBUTION,
        nodes=tuple(nodes),
        edges=tuple(build_edges(by_id)),
        sites=tuple(build_sites()),
        forces=forces(),
        movements=MOVEMENTS,
        boundary=boundary_fc["features"][0]["geometry"],
        circuity=dict(DEFAULT_CIRCUITY),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geo", type=Path, default=ROOT.parent / "shared" / "data" / "geo")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    scenario = build(args.geo)
    write_scenario_folder(scenario, args.out)
    print(
        f"wrote {args.out}: {len(scenario.nodes)} nodes, {len(scenario.edges)} roads, "
        f"{len(scenario.sites)} sites, {len(scenario.forces)} forces"
    )


if __name__ == "__main__":
    main()
