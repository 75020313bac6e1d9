"""The JSON game interchange format (``docs/game-format.md``): load, validate, dump.

Every error names the field path, e.g. ``targets[2].defender_penalty: must be a number``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from corridorguard.errors import NotFoundError, ValidationError
from corridorguard.games.model import AttackerType, Burden, Game, PayoffArrays, ResourceType

__all__ = ["dump_game", "load_game"]

_PAYOFFS = ("defender_reward", "defender_penalty", "attacker_reward", "attacker_penalty")
_TOP = {"targets", "resources", "attacker_types", "resource_types", "agency_capacity", "burden"}
_TOP_OPTIONAL_INFO = {"name", "description", "labels"}


class _Ctx:
    def __init__(self, file: str | None) -> None:
        self.file = file

    def fail(self, field: str, msg: str) -> ValidationError:
        return ValidationError(msg, file=self.file, field=field)

    def obj(self, v: Any, field: str, allowed: set[str], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(v, Mapping):
            raise self.fail(field, f"must be an object, got {type(v).__name__}")
        for k in v:
            if k not in allowed:
                raise self.fail(f"{field}.{k}" if field else str(k), "unknown field")
        for k in required:
            if k not in v:
                raise self.fail(f"{field}.{k}" if field else k, "required field is missing")
        return dict(v)

    def num(self, v: Any, field: str) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(field, f"must be a number, got {json.dumps(v)[:40]}")
        if not math.isfinite(v):
            raise self.fail(field, "must be a finite number")
        return float(v)

    def int_(self, v: Any, field: str, *, minimum: int = 0) -> int:
        if (
            isinstance(v, bool)
            or not isinstance(v, int | float)
            or not math.isfinite(v)
            or float(v) != int(v)
        ):
            raise self.fail(field, f"must be an integer, got {json.dumps(v)[:40]}")
        if v < minimum:
            raise self.fail(field, f"must be >= {minimum}")
        return int(v)

    def str_(self, v: Any, field: str) -> str:
        if not isinstance(v, str) or not v:
            raise self.fail(field, "must be a non-empty string")
        return v

    def list_(self, v: Any, field: str) -> list:
        if not isinstance(v, list):
            raise self.fail(field, f"must be a list, got {type(v).__name__}")
        return v

    def pair(self, v: Any, field: str) -> tuple[float, float]:
        items = self.list_(v, field)
        if len(items) != 2:
            raise self.fail(field, "must be [low, high]")
        lo, hi = self.num(items[0], f"{field}[0]"), self.num(items[1], f"{field}[1]")
        if lo > hi:
            raise self.fail(field, f"low {lo:g} exceeds high {hi:g}")
        return lo, hi


def load_game(source: Mapping[str, Any] | str | Path) -> Game:
    """A :class:`Game` from a dict (parsed JSON) or a path to a JSON file.

    Raises
    ------
    NotFoundError
        The file does not exist.
    ValidationError
        Bad JSON or a bad field; ``field`` holds the path (``targets[2].defender_penalty``).
    """
    file: str | None = None
    if isinstance(source, str | Path):
        path = Path(source)
        file = str(path)
        if not path.is_file():
            raise NotFoundError("no such game file", file=file)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValidationError(f"invalid JSON: {exc.msg}", file=file, line=exc.lineno) from None
        except UnicodeDecodeError:
            raise ValidationError("not UTF-8 text", file=file) from None
    else:
        data = source
    ctx = _Ctx(file)
    try:
        return _parse(ctx, data)
    except ValidationError as exc:
        if exc.file is None and file is not None:
            exc.file = file
        raise


def _parse(ctx: _Ctx, data: Any) -> Game:
    top = ctx.obj(data, "", _TOP | _TOP_OPTIONAL_INFO, ("targets",))
    targets = ctx.list_(top["targets"], "targets")
    if not targets:
        raise ctx.fail("targets", "a game needs at least one target")
    ids: list[str] = []
    arr = np.zeros((len(targets), 4))
    ranges: dict[str, list[tuple[float, float] | None]] = {
        "attacker_reward_range": [],
        "attacker_penalty_range": [],
    }
    for i, t in enumerate(targets):
        f = f"targets[{i}]"
        t = ctx.obj(t, f, {"id", "name", *_PAYOFFS, *ranges}, ("id", *_PAYOFFS))
        tid = ctx.str_(t["id"], f"{f}.id")
        if tid in ids:
            raise ctx.fail(f"{f}.id", f"duplicate target id {tid!r}")
        ids.append(tid)
        for k, name in enumerate(_PAYOFFS):
            arr[i, k] = ctx.num(t[name], f"{f}.{name}")
        for name, store in ranges.items():
            store.append(ctx.pair(t[name], f"{f}.{name}") if name in t else None)
    index = {t: i for i, t in enumerate(ids)}
    payoffs = PayoffArrays(*(np.ascontiguousarray(arr[:, k]) for k in range(4)))
    kwargs: dict[str, Any] = {"_ids": tuple(ids)}
    if any(r is not None for store in ranges.values() for r in store):
        kwargs["ra_range"] = np.array(
            [r or (arr[i, 2],) * 2 for i, r in enumerate(ranges["attacker_reward_range"])]
        )
        kwargs["pa_range"] = np.array(
            [r or (arr[i, 3],) * 2 for i, r in enumerate(ranges["attacker_penalty_range"])]
        )
    if "attacker_types" in top:
        kwargs["attacker_types"] = _attacker_types(ctx, top["attacker_types"], payoffs, index)
    if "resource_types" in top:
        kwargs["resource_types"] = _resource_types(ctx, top["resource_types"], index)
    if "agency_capacity" in top:
        raw_caps = top["agency_capacity"]
        caps = ctx.obj(
            raw_caps, "agency_capacity", set(raw_caps) if isinstance(raw_caps, dict) else set()
        )
        kwargs["agency_capacity"] = {
            str(a): ctx.int_(v, f"agency_capacity.{a}") for a, v in caps.items()
        }
    types = kwargs.get("resource_types", ())
    if "resources" in top:
        m = ctx.int_(top["resources"], "resources")
    elif types:
        m = sum(rt.count for rt in types)
    else:
        raise ctx.fail("resources", "required field is missing (or give resource_types)")
    if "burden" in top:
        kwargs["burden"] = _burden(ctx, top["burden"], index)
    game = Game(payoffs, m, **kwargs)
    game.validate()
    return game


def _attacker_types(
    ctx: _Ctx, raw: Any, base: PayoffArrays, index: dict[str, int]
) -> tuple[AttackerType, ...]:
    out = []
    for k, a in enumerate(ctx.list_(raw, "attacker_types")):
        f = f"attacker_types[{k}]"
        a = ctx.obj(a, f, {"id", "probability", "targets"}, ("id", "probability", "targets"))
        rows = ctx.list_(a["targets"], f"{f}.targets")
        rd, pd = base.rd.copy(), base.pd.copy()
        ra, pa = np.full(len(index), np.nan), np.full(len(index), np.nan)
        for i, t in enumerate(rows):
            ft = f"{f}.targets[{i}]"
            t = ctx.obj(t, ft, {"id", *_PAYOFFS}, ("id", "attacker_reward", "attacker_penalty"))
            tid = ctx.str_(t["id"], f"{ft}.id")
            if tid not in index:
                raise ctx.fail(f"{ft}.id", f"unknown target {tid!r}")
            j = index[tid]
            ra[j] = ctx.num(t["attacker_reward"], f"{ft}.attacker_reward")
            pa[j] = ctx.num(t["attacker_penalty"], f"{ft}.attacker_penalty")
            if "defender_reward" in t:
                rd[j] = ctx.num(t["defender_reward"], f"{ft}.defender_reward")
            if "defender_penalty" in t:
                pd[j] = ctx.num(t["defender_penalty"], f"{ft}.defender_penalty")
        missing = [t for t, j in index.items() if np.isnan(ra[j])]
        if missing:
            raise ctx.fail(f"{f}.targets", f"no payoffs for target {missing[0]!r}")
        prob = ctx.num(a["probability"], f"{f}.probability")
        if not 0 <= prob <= 1:
            raise ctx.fail(f"{f}.probability", "must be in [0, 1]")
        out.append(AttackerType(ctx.str_(a["id"], f"{f}.id"), prob, PayoffArrays(rd, pd, ra, pa)))
    if not out:
        raise ctx.fail("attacker_types", "give at least one type or leave the field out")
    return tuple(out)


def _resource_types(ctx: _Ctx, raw: Any, index: dict[str, int]) -> tuple[ResourceType, ...]:
    out = []
    for r, rt in enumerate(ctx.list_(raw, "resource_types")):
        f = f"resource_types[{r}]"
        rt = ctx.obj(
            rt, f, {"id", "count", "eligible", "agency", "burden", "kind"}, ("id", "count")
        )
        eligible = None
        if "eligible" in rt:
            eligible_ids = ctx.list_(rt["eligible"], f"{f}.eligible")
            pos = []
            for i, tid in enumerate(eligible_ids):
                if not isinstance(tid, str) or tid not in index:
                    raise ctx.fail(f"{f}.eligible[{i}]", f"unknown target {tid!r}")
                pos.append(index[tid])
            eligible = tuple(sorted(set(pos)))
        burden = rt.get("burden", rt.get("kind") == "checkpoint")
        if not isinstance(burden, bool):
            raise ctx.fail(f"{f}.burden", "must be true or false")
        out.append(
            ResourceType(
                id=ctx.str_(rt["id"], f"{f}.id"),
                count=ctx.int_(rt["count"], f"{f}.count"),
                eligible=eligible,
                agency=ctx.str_(rt["agency"], f"{f}.agency") if "agency" in rt else None,
                burden=burden,
            )
        )
    if not out:
        raise ctx.fail("resource_types", "give at least one type or leave the field out")
    return tuple(out)


def _burden(ctx: _Ctx, raw: Any, index: dict[str, int]) -> Burden:
    b = ctx.obj(raw, "burden", {"targets", "weight", "cap", "unit"}, ("targets",))
    per = np.zeros(len(index))
    for tid, v in ctx.obj(b["targets"], "burden.targets", set(index)).items():
        tid = str(tid)
        per[index[tid]] = ctx.num(v, f"burden.targets.{tid}")
    weight = ctx.num(b.get("weight", 0.0), "burden.weight")
    cap = None if b.get("cap") is None else ctx.num(b["cap"], "burden.cap")
    return Burden(per, weight, cap)


def dump_game(game: Game) -> dict[str, Any]:
    """The JSON form of ``game`` (``load_game(dump_game(g))`` round-trips)."""
    ids = game.ids
    p = game.payoffs
    targets = []
    for i, t in enumerate(ids):
        row: dict[str, Any] = {"id": t}
        for name, a in zip(_PAYOFFS, (p.rd, p.pd, p.ra, p.pa), strict=True):
            row[name] = float(a[i])
        if game.ra_range is not None and game.pa_range is not None:
            row["attacker_reward_range"] = [float(v) for v in game.ra_range[i]]
            row["attacker_penalty_range"] = [float(v) for v in game.pa_range[i]]
        targets.append(row)
    out: dict[str, Any] = {"targets": targets, "resources": game.resources}
    if game.attacker_types:
        out["attacker_types"] = [
            {
                "id": a.id,
                "probability": a.probability,
                "targets": [
                    {
                        "id": t,
                        "attacker_reward": float(a.payoffs.ra[i]),
                        "attacker_penalty": float(a.payoffs.pa[i]),
                        "defender_reward": float(a.payoffs.rd[i]),
                        "defender_penalty": float(a.payoffs.pd[i]),
                    }
                    for i, t in enumerate(ids)
                ],
            }
            for a in game.attacker_types
        ]
    if game.resource_types:
        out["resource_types"] = []
        for rt in game.resource_types:
            row = {"id": rt.id, "count": rt.count, "burden": rt.burden}
            if rt.eligible is not None:
                row["eligible"] = [ids[t] for t in rt.eligible]
            if rt.agency is not None:
                row["agency"] = rt.agency
            out["resource_types"].append(row)
    if game.agency_capacity:
        out["agency_capacity"] = dict(game.agency_capacity)
    if game.burden is not None:
        out["burden"] = {
            "targets": {t: float(v) for t, v in zip(ids, game.burden.per_target, strict=True)},
            "weight": game.burden.weight,
            "cap": game.burden.cap,
        }
    return out
