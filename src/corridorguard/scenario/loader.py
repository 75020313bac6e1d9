"""Load and validate scenario folders (``scenario.yaml`` + RFC 7946 GeoJSON layers).

A scenario folder holds:

* ``scenario.yaml``: name, title, description, labels, attribution, circuity, the file names of
  the GeoJSON layers, forces (with units and jurisdictions) and movements;
* ``nodes.geojson`` (Points), ``roads.geojson`` (LineStrings), ``sites.geojson`` (Points) and,
  optionally, ``boundary.geojson`` (a Polygon or MultiPolygon).

The format is documented field by field in ``docs/scenario.md``. Validation collects *every*
problem, each as a :class:`~corridorguard.errors.ValidationError` naming the file, the field path
and, for YAML, the line (``cpec/scenario.yaml:42: forces[1].units[0].base: unknown node 'xyz'``).
Pydantic errors are translated; they never escape as tracebacks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pydantic
import yaml

from corridorguard.errors import CorridorError, NotFoundError, ValidationError
from corridorguard.scenario import _checks
from corridorguard.scenario._jsonpos import feature_lines
from corridorguard.scenario._yaml import Path_, line_for, load_yaml
from corridorguard.scenario.export import LAYER_FILES
from corridorguard.scenario.model import Edge, Force, Movement, Node, Scenario, Site

__all__ = [
    "BUILTIN_DIR",
    "ScenarioInvalid",
    "builtin_scenarios",
    "load_scenario",
    "resolve_scenario_path",
    "validate_scenario_folder",
]

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
"""Folder of the built-in scenarios (one sub-folder each)."""

_TOP_KEYS = (
    "name",
    "title",
    "description",
    "labels",
    "attribution",
    "circuity",
    "layers",
    "forces",
    "movements",
)


class ScenarioInvalid(ValidationError):
    """A scenario folder with one or more problems; ``errors`` lists every one."""

    def __init__(self, errors: list[ValidationError]) -> None:
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        super().__init__(first.message + more, file=first.file, line=first.line, field=first.field)
        self.errors = errors

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["errors"] = [e.to_dict() for e in self.errors]
        return out


@dataclass
class _Reader:
    """Collects errors while reading one folder."""

    folder: Path
    errors: list[ValidationError] = field(default_factory=list)
    lines: dict[Path_, int] = field(default_factory=dict)
    geoms: dict[tuple[str, int], list[tuple[float, float]]] = field(default_factory=dict)
    feature_lines: dict[str, list[int]] = field(default_factory=dict)
    """GeoJSON file -> 1-based line where each feature starts."""
    invalid_ids: set[str] = field(default_factory=set)
    """Node ids of node features that failed validation (references to them are not 'unknown')."""
    failed: list[tuple[str, int, Any]] = field(default_factory=list)
    """YAML items (key, index, raw value) that failed model validation."""

    def label(self, fname: str) -> str:
        return f"{self.folder.name}/{fname}"

    def error(self, fname: str, fld: str | None, msg: str, *, line: int | None = None) -> None:
        if line is None and fld and fld.startswith("features["):
            starts = self.feature_lines.get(fname, [])
            k = int(fld[len("features[") : fld.index("]")])
            line = starts[k] if k < len(starts) else None
        self.errors.append(ValidationError(msg, file=self.label(fname), line=line, field=fld))

    def yaml_error(self, path: Path_, msg: str) -> None:
        fld = format_path(path) or None
        self.error("scenario.yaml", fld, msg, line=line_for(self.lines, path))


def format_path(path: Path_) -> str:
    """``("forces", 1, "units", 0)`` -> ``forces[1].units[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def pydantic_problems(exc: pydantic.ValidationError) -> list[tuple[Path_, str]]:
    """Translate a pydantic error into ``(field path, message)`` pairs."""
    out: list[tuple[Path_, str]] = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif "input" in err and not isinstance(err["input"], dict | list):
            msg = f"{msg} (got {err['input']!r})"
        out.append((loc, msg))
    return out


# --- public API ------------------------------------------------------------------------------


def builtin_scenarios() -> list[str]:
    """Names of the built-in scenarios (e.g. ``["cpec"]``)."""
    return sorted(p.name for p in BUILTIN_DIR.iterdir() if (p / "scenario.yaml").is_file())


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """The folder of a built-in scenario name, a folder path, or a ``scenario.yaml`` path."""
    text = str(name_or_path)
    if isinstance(name_or_path, str) and text in builtin_scenarios():
        return BUILTIN_DIR / text
    path = Path(name_or_path)
    if path.is_file() and path.name == "scenario.yaml":
        return path.parent
    if path.is_dir():
        return path
    known = ", ".join(builtin_scenarios())
    raise NotFoundError(
        f"no scenario {text!r}: not a built-in scenario ({known}) nor a scenario folder"
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a scenario by built-in name (``"cpec"``) or folder path.

    Raises
    ------
    NotFoundError
        When the name is neither a built-in scenario nor a folder.
    ScenarioInvalid
        When the folder has problems; ``.errors`` lists every one.
    """
    folder = resolve_scenario_path(name_or_path)
    if folder.parent == BUILTIN_DIR:
        return _load_builtin(folder.name)
    return _load_folder(folder)


@lru_cache(maxsize=8)
def _load_builtin(name: str) -> Scenario:
    return _load_folder(BUILTIN_DIR / name)


def _load_folder(folder: Path) -> Scenario:
    scenario, errors = read_scenario_folder(folder)
    if errors or scenario is None:
        raise ScenarioInvalid(errors or [ValidationError("invalid scenario", file=str(folder))])
    return scenario


def validate_scenario_folder(path: str | Path) -> list[CorridorError]:
    """Every problem of a scenario folder (an empty list when it is valid).

    ``path`` is a folder; a built-in scenario name (``"cpec"``) also works when no folder of
    that name exists.
    """
    folder = Path(path)
    if not folder.is_dir() and str(path) in builtin_scenarios():
        folder = BUILTIN_DIR / str(path)
    if not folder.is_dir():
        return [NotFoundError("not a scenario folder", file=str(folder))]
    return list(read_scenario_folder(folder)[1])


def read_scenario_folder(folder: Path) -> tuple[Scenario | None, list[ValidationError]]:
    """Read a folder; return the scenario (``None`` if invalid) and every problem found."""
    r = _Reader(folder)
    doc = _read_yaml(r)
    if doc is None:
        return None, r.errors
    layers = _layer_files(r, doc)
    nodes = _read_layer(r, layers.get("nodes"), "nodes", Node, _checks.point_data)
    edges = _read_layer(r, layers.get("roads"), "roads", Edge, _checks.line_data)
    sites = _read_layer(r, layers.get("sites"), "sites", Site, _checks.point_data)
    boundary = _read_boundary(r, layers.get("boundary"))
    forces = _read_yaml_list(r, doc, "forces", Force, folder)
    movements = _read_yaml_list(r, doc, "movements", Movement, folder)
    meta = _read_meta(r, doc)
    _checks.cross_check(r, layers, nodes, edges, sites, forces, movements, boundary)
    if r.errors or meta is None:
        return None, r.errors
    try:
        scenario = Scenario(
            **meta,
            nodes=tuple(n for _, n in nodes),
            edges=tuple(e for _, e in edges),
            sites=tuple(s for _, s in sites),
            forces=tuple(f for _, f in forces),
            movements=tuple(m for _, m in movements),
            boundary=boundary,
        )
    except pydantic.ValidationError as exc:  # a rule the cross-check above does not know
        for loc, msg in pydantic_problems(exc):
            r.yaml_error(loc, msg)
        return None, r.errors
    return scenario, r.errors


# --- pieces ----------------------------------------------------------------------------------


def _read_yaml(r: _Reader) -> dict[str, Any] | None:
    path = r.folder / "scenario.yaml"
    if not path.is_file():
        r.error("scenario.yaml", None, "missing file: a scenario folder needs scenario.yaml")
        return None
    try:
        doc, r.lines = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        r.error("scenario.yaml", None, f"not valid YAML: {reason}", line=line)
        return None
    except UnicodeDecodeError as exc:
        r.error("scenario.yaml", None, f"not UTF-8 text: {exc.reason}")
        return None
    if not isinstance(doc, dict):
        r.error("scenario.yaml", None, "must be a mapping (key: value) at the top level", line=1)
        return None
    for key in doc:
        if key not in _TOP_KEYS:
            r.yaml_error((str(key),), f"unknown field (expected one of: {', '.join(_TOP_KEYS)})")
    return doc


def _layer_files(r: _Reader, doc: dict[str, Any]) -> dict[str, str]:
    raw = doc.get("layers")
    if raw is None:
        files = {k: v for k, v in LAYER_FILES.items() if (r.folder / v).is_file()}
        files.setdefault("nodes", LAYER_FILES["nodes"])
        files.setdefault("roads", LAYER_FILES["roads"])
        return files
    if not isinstance(raw, dict):
        r.yaml_error(("layers",), "must be a mapping of layer name to GeoJSON file name")
        return {}
    files = {}
    for key, value in raw.items():
        if key not in LAYER_FILES:
            r.yaml_error(("layers", str(key)), f"unknown layer (expected {', '.join(LAYER_FILES)})")
        elif not isinstance(value, str) or not value:
            r.yaml_error(("layers", key), "must be a file name")
        else:
            files[key] = value
    for needed in ("nodes", "roads"):
        if needed not in files and needed not in raw:
            r.yaml_error(("layers",), f"missing layer {needed!r}")
    return files


def _load_geojson(r: _Reader, fname: str) -> Any:
    path = r.folder / fname
    if not path.is_file():
        r.error(fname, None, "missing file (named in scenario.yaml layers)")
        return None
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        r.error(fname, None, f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno)
    except UnicodeDecodeError as exc:
        r.error(fname, None, f"not UTF-8 text: {exc.reason}")
    else:
        r.feature_lines[fname] = feature_lines(text)
        return data
    return None


def _features(r: _Reader, fname: str) -> list[tuple[int, dict[str, Any]]]:
    data = _load_geojson(r, fname)
    if data is None:
        return []
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        r.error(fname, "type", "must be a GeoJSON FeatureCollection")
        return []
    feats = data.get("features")
    if not isinstance(feats, list):
        r.error(fname, "features", "must be a list of features")
        return []
    out = []
    for i, feat in enumerate(feats):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            r.error(fname, f"features[{i}].type", "must be a GeoJSON Feature")
        elif not isinstance(feat.get("properties"), dict):
            r.error(fname, f"features[{i}].properties", "must be an object")
        else:
            out.append((i, feat))
    return out


def _read_layer(
    r: _Reader, fname: str | None, layer: str, model: Any, to_data: Any
) -> list[tuple[int, Any]]:
    """Validate every feature of a layer as ``model``; returns ``(feature index, object)``."""
    if fname is None:
        return []
    out = []
    for i, feat in _features(r, fname):
        data, geom_fields = to_data(r, fname, i, feat, layer)
        if data is None:
            continue
        try:
            out.append((i, model.model_validate(data)))
        except pydantic.ValidationError as exc:
            if layer == "nodes" and isinstance(data.get("id"), str):
                r.invalid_ids.add(data["id"])
            for loc, msg in pydantic_problems(exc):
                key = loc[0] if loc else None
                where = geom_fields.get(key) if key in geom_fields else None
                fld = where or f"features[{i}].properties.{format_path(loc)}"
                r.error(fname, fld, msg)
    return out


def _read_boundary(r: _Reader, fname: str | None) -> dict[str, Any] | None:
    if fname is None:
        return None
    data = _load_geojson(r, fname)
    if data is None:
        return None
    return _checks.boundary_geometry(r, fname, data)


def _read_yaml_list(
    r: _Reader, doc: dict[str, Any], key: str, model: Any, folder: Path
) -> list[tuple[int, Any]]:
    raw = doc.get(key, [])
    if raw is None:
        return []
    if not isinstance(raw, list):
        r.yaml_error((key,), "must be a list")
        return []
    out = []
    for i, item in enumerate(raw):
        if key == "forces" and isinstance(item, dict):
            item = _checks.resolve_polygon_file(r, item, i, folder)
        if key == "movements" and isinstance(item, dict):
            item = _checks.pad_times(item)
        try:
            out.append((i, model.model_validate(item)))
        except pydantic.ValidationError as exc:
            r.failed.append((key, i, item))
            for loc, msg in pydantic_problems(exc):
                r.yaml_error((key, i, *loc), msg)
    return out


def _read_meta(r: _Reader, doc: dict[str, Any]) -> dict[str, Any] | None:
    keys = ("name", "title", "description", "labels", "circuity")
    meta: dict[str, Any] = {k: doc[k] for k in keys if k in doc}
    if "attribution" in doc:
        att = doc["attribution"]
        meta["attribution"] = [att] if isinstance(att, str) else att
    for k in ("title", "description"):
        if meta.get(k) is None:
            meta.pop(k, None)
    try:
        checked = Scenario.model_validate({**meta, "nodes": (), "edges": ()})
    except pydantic.ValidationError as exc:
        for loc, msg in pydantic_problems(exc):
            r.yaml_error(loc, msg)
        return None
    return {k: getattr(checked, k) for k in meta}
