"""Partner sync: pull a partner's TAXII 2.1 collection into this store, idempotently.

Instance B holds an account on partner A (a user of organisation B there) and pulls the
collection ``to-B`` (what A's side may pass on to B). Every STIX incident becomes a stored
incident with ``source = "taxii"`` and ``source_id`` = its STIX id, so pulling again adds
nothing (the store's unique key) and a later re-export keeps the same STIX id. A's markings are
kept: originator (trusted from ``created_by_ref``: a partner source configured by an admin), TLP
and REL-TO; RED records never travel (A's policy does not pass them on). The pull is audited in
B's log (``sync.pull``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from requests.auth import AuthBase

from corridorguard.api.config import ServerSettings, load_signing_key
from corridorguard.api.context import AuditService
from corridorguard.errors import ConfigError
from corridorguard.incidents import Incident
from corridorguard.sharing.policy import Actor, Role
from corridorguard.sharing.records import IncidentRecord
from corridorguard.sharing.stix import import_stix
from corridorguard.store import Store

__all__ = ["BearerAuth", "SyncResult", "fetch_collection", "pull"]


class BearerAuth(AuthBase):
    """``Authorization: Bearer TOKEN`` for ``requests`` (taxii2-client's transport)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


@dataclass(frozen=True)
class SyncResult:
    """Outcome of :func:`pull`."""

    fetched: int
    imported: int
    unchanged: int

    def to_dict(self) -> dict[str, int]:
        return {"fetched": self.fetched, "imported": self.imported, "unchanged": self.unchanged}


def fetch_collection(
    base_url: str,
    collection_id: str,
    token: str,
    *,
    added_after: datetime | None = None,
    per_page: int = 100,
) -> list[dict[str, Any]]:
    """Every STIX object of a partner's collection (all pages), de-duplicated by id."""
    from taxii2client.v21 import Collection, as_pages

    url = f"{base_url.rstrip('/')}/taxii2/api1/collections/{collection_id}/"
    try:
        coll = Collection(url, auth=BearerAuth(token))
        kwargs: dict[str, Any] = {}
        if added_after is not None:
            kwargs["added_after"] = added_after
        seen: dict[str, dict[str, Any]] = {}
        for envelope in as_pages(coll.get_objects, per_request=per_page, **kwargs):
            for obj in envelope.get("objects", []):
                seen.setdefault(obj["id"], obj)
    except requests.RequestException as exc:
        raise ConfigError(f"cannot pull {url}: {exc}", field="--from") from None
    return list(seen.values())


def _incident(rec: IncidentRecord, origin: str) -> Incident:
    return Incident(
        source="taxii",
        source_id=rec.id,
        time=rec.time,
        lon=rec.lon,
        lat=rec.lat,
        type=rec.type,
        fatalities_best=rec.fatalities,
        description=rec.description,
        reference=f"TAXII {origin} ({rec.source}/{rec.source_id})",
        originator=rec.originator,
        tlp=rec.tlp.value,
        rel_to=tuple(sorted(rec.rel_to)),
    )


def pull(
    store: Store,
    base_url: str,
    collection_id: str,
    token: str,
    *,
    server: ServerSettings | None = None,
) -> SyncResult:
    """Pull the collection into ``store``; idempotent (see the module docstring)."""
    objects = fetch_collection(base_url, collection_id, token)
    importer = Actor(user_id="sync", org="sync", role=Role.ANALYST)
    bundle = {"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000"}
    result = import_stix({**bundle, "objects": objects}, importer, trust_originator=True)
    records = [_incident(r, base_url) for r in result.incidents.values() if r.tlp.value != "RED"]
    added = store.incidents.add_many(records).imported
    audit = AuditService(store, load_signing_key(server or ServerSettings()))
    audit.record(
        "sync.pull",
        None,
        target=f"collection/{collection_id}",
        detail={"from": base_url, "fetched": len(records), "imported": added},
    )
    return SyncResult(fetched=len(records), imported=added, unchanged=len(records) - added)
