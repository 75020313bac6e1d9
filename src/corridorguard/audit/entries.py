"""Audit entries as RFC 8785 canonical JSON.

An entry is a JSON object that always carries its own position (``seq``), so a moved, deleted or
duplicated entry is caught at the exact index, plus who, what, when, where and the outcome
(OWASP ASVS 5.0 V16.2). The leaf data of the Merkle tree is the RFC 8785 (JCS) serialisation of
the object: the same object always gives the same bytes, whichever program wrote it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785

from corridorguard.errors import ValidationError

__all__ = [
    "LogRecord",
    "canonical_json",
    "make_entry",
    "utc_now",
]


def utc_now() -> str:
    """The current UTC time as ISO-8601 with microseconds and a ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 canonical JSON bytes of ``obj`` (``ValidationError`` if not JSON-serialisable)."""
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise ValidationError(f"not canonicalisable as JSON: {exc}") from None


def make_entry(
    seq: int,
    *,
    action: str,
    actor: str | None = None,
    org: str | None = None,
    target: str | None = None,
    outcome: str = "ok",
    detail: Mapping[str, Any] | None = None,
    time: str | None = None,
) -> dict[str, Any]:
    """Build an audit entry object.

    Parameters
    ----------
    seq
        The entry's index in the log (set by the log, not by the caller).
    action
        What happened: ``incident.create``, ``plan.approve``, ``export.stix``, ``login``, ...
    actor, org
        Who (user id) and on behalf of which organisation; ``None`` for anonymous requests.
    target
        The record acted upon (``incident/42``), if any.
    outcome
        ``ok``, ``denied``, ``failed``...
    detail
        Extra JSON data (request id, client address, changed fields). Never record contents
        that the oversight body may not read.
    time
        UTC ISO-8601; default now.
    """
    if not action:
        raise ValidationError("an audit entry needs an action", field="action")
    return {
        "seq": seq,
        "time": time or utc_now(),
        "action": action,
        "actor": actor,
        "org": org,
        "target": target,
        "outcome": outcome,
        "detail": dict(detail or {}),
    }


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One stored log entry: its index, its canonical JSON bytes and its leaf hash.

    ``leaf_hash`` is stored next to the data so that accidental or naive corruption is located
    at the exact entry; the security guarantee itself comes from the signed checkpoints.
    """

    index: int
    data: bytes
    leaf_hash: bytes

    def entry(self) -> dict[str, Any]:
        """The entry object (parsed from :attr:`data`)."""
        obj = json.loads(self.data.decode("utf-8"))
        assert isinstance(obj, dict)
        return obj

    def to_line(self) -> bytes:
        """The export line ``{"entry": {...}, "leaf": "<hex>"}`` (no newline).

        The entry's stored bytes are copied verbatim, so the line is canonical JSON whenever the
        entry is, and a verifier hashes exactly what was stored.
        """
        return b'{"entry":' + self.data + b',"leaf":"' + self.leaf_hash.hex().encode() + b'"}'
