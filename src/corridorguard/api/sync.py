"""Partner sync: pull a partner's TAXII 2.1 collection into this store, idempotently.

Instance B holds an account on partner A (a user of organisation B there) and pulls the
collection ``to-B`` (what A's side may pass on to B): incidents, sites and plans' public parts.
A's markings are kept: originator (trusted from ``created_by_ref``: a partner source configured
by an admin), TLP and REL-TO (organisation names, as on A), so B's one policy applies them
(AMBER+STRICT is never passed on by B: B is not its originator). RED never travels: A's policy
does not pass it on, and B drops any RED object it is sent.

Where records land (:mod:`corridorguard.api.routes._stix_store`): incidents with
``source = "taxii"`` and ``source_id`` = the STIX id; sites with ``stix_id``; plans as read-only
shared plan summaries (``shared_plans``). Pulling again changes nothing; an object with a newer
``modified`` is a new version of the same record (history in ``stix_versions``, audit entry
``stix.version``); an id held here from another originator is refused, and the whole pull with
it (one transaction). The pull is audited in B's log (``sync.pull``).

Incremental by default: B remembers, per source and collection (``sync_state``), the TAXII date
added of the last object it took (A's ``X-TAXII-Date-Added-Last``, A's clock) and the next pull
asks for ``added_after`` that; a correction on A is added again there, so it comes with the
next pull. The state moves in the pull's own transaction: a rejected pull leaves it where it
was. ``full=True`` reads the whole collection (still idempotent); an explicit ``added_after``
wins over the state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from requests.auth import AuthBase
from sqlalchemy import insert, select, update

from corridorguard.api.config import ServerSettings, load_signing_key
from corridorguard.api.context import AuditService
from corridorguard.api.routes._stix_store import StixWriter
from corridorguard.errors import ConfigError, ImportRejected, ValidationError
from corridorguard.sharing.policy import TLP, Actor, Role
from corridorguard.sharing.records import parse_time
from corridorguard.sharing.stix import import_stix
from corridorguard.store import Store
from corridorguard.store.shared import SYNC_STATE

__all__ = ["BearerAuth", "SyncResult", "fetch_collection", "pull"]


class BearerAuth(AuthBase):
    """``Authorization: Bearer TOKEN`` for ``requests`` (taxii2-client's transport)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


class _PageAuth(BearerAuth):
    """:class:`BearerAuth` that also notes each page's ``X-TAXII-Date-Added-Last`` (the
    envelopes taxii2-client returns carry no headers)."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.last_added: datetime | None = None

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.register_hook("response", self._note)
        return super().__call__(r)

    def _note(self, resp: requests.Response, *_: Any, **__: Any) -> None:
        raw = resp.headers.get("X-TAXII-Date-Added-Last")
        if resp.ok and raw:
            try:
                when = parse_time(raw, field_name="X-TAXII-Date-Added-Last")
            except ValidationError:
                return  # a partner's bad header: the state stays where it was
            if self.last_added is None or when > self.last_added:
                self.last_added = when


@dataclass(frozen=True)
class SyncResult:
    """Outcome of :func:`pull`: records fetched, created, updated (new versions), unchanged,
    and ``ours`` (records of this instance that came back through the partner: left as
    they are, never stored twice), and the same by kind (incidents, sites, plans)."""

    fetched: int
    imported: int
    updated: int
    unchanged: int
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    ours: int = 0
    added_after: datetime | None = None
    last_added: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "ours": self.ours,
            "by_kind": self.by_kind,
            "added_after": self.added_after.isoformat() if self.added_after else None,
            "last_added": self.last_added.isoformat() if self.last_added else None,
        }


def fetch_collection(
    base_url: str,
    collection_id: str,
    token: str,
    *,
    added_after: datetime | None = None,
    per_page: int = 100,
) -> list[dict[str, Any]]:
    """Every STIX object of a partner's collection (all pages), de-duplicated by id."""
    return _fetch(base_url, collection_id, BearerAuth(token), added_after, per_page)


def _fetch(
    base_url: str,
    collection_id: str,
    auth: BearerAuth,
    added_after: datetime | None,
    per_page: int = 100,
) -> list[dict[str, Any]]:
    from taxii2client.v21 import Collection, as_pages

    url = f"{base_url.rstrip('/')}/taxii2/api1/collections/{collection_id}/"
    try:
        coll = Collection(url, auth=auth)
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


def pull(
    store: Store,
    base_url: str,
    collection_id: str,
    token: str,
    *,
    server: ServerSettings | None = None,
    added_after: datetime | None = None,
    full: bool = False,
) -> SyncResult:
    """Pull the collection into ``store`` in one audited transaction (see the module
    docstring); a bad object or a STIX id held from another originator writes nothing.
    ``added_after`` pulls only what A added (or re-added as a new version) since then; without
    it, since the last pull from this source and collection (``full``: everything)."""
    source = base_url.rstrip("/")
    state = _state(store, source, collection_id)
    if added_after is None and not full and state is not None:
        added_after = state
    auth = _PageAuth(token)
    objects = _fetch(base_url, collection_id, auth, added_after)
    importer = Actor(user_id="sync", org="sync", role=Role.ANALYST)
    bundle = {"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000"}
    parsed = import_stix({**bundle, "objects": objects}, importer, trust_originator=True)
    for records in (parsed.incidents, parsed.sites, parsed.plans):
        for rid in [r for r, rec in records.items() if rec.tlp is TLP.RED]:
            del records[rid]  # RED never leaves its named recipients (A does not send it)
    where = {str(o.get("id")): k for k, o in enumerate(objects)}
    audit = AuditService(store, load_signing_key(server or ServerSettings()))
    with audit.transaction() as tx:
        writer = StixWriter(tx, None, None, datetime.now(UTC), where, origin=base_url)
        writer.write(parsed)
        if writer.errors:
            raise ImportRejected(f"TAXII {base_url}", writer.errors)
        counts = writer.counts()
        # the state never moves back (an explicit older ``added_after`` reads less, not less later)
        known = [d for d in (auth.last_added, state) if d is not None]
        last = max(known) if known else None
        tx.audit(
            "sync.pull",
            None,
            target=f"collection/{collection_id}",
            detail={
                "from": base_url,
                "added_after": added_after.isoformat() if added_after else None,
                "last_added": last.isoformat() if last else None,
                **counts,
            },
            actor=("sync", "sync"),
        )
        _remember(tx.session.connection(), source, collection_id, last, writer.now)
    return SyncResult(
        fetched=sum(len(r) for r in (parsed.incidents, parsed.sites, parsed.plans)),
        imported=sum(counts["created"].values()),
        updated=sum(counts["updated"].values()),
        unchanged=sum(counts["unchanged"].values()),
        by_kind=counts,
        ours=sum(counts["ours"].values()),
        added_after=added_after,
        last_added=last,
    )


def _state(store: Store, source: str, collection: str) -> datetime | None:
    """The date added of the last object taken from ``source``'s ``collection`` (or None)."""
    t = SYNC_STATE
    stmt = select(t.c.last_added).where(t.c.source == source, t.c.collection == collection)
    with store.read() as conn:
        return conn.execute(stmt).scalar()


def _remember(
    conn: Any, source: str, collection: str, last: datetime | None, now: datetime
) -> None:
    t = SYNC_STATE
    key = (t.c.source == source) & (t.c.collection == collection)
    done = conn.execute(update(t).where(key).values(last_added=last, pulled_at=now))
    if done.rowcount == 0:
        conn.execute(
            insert(t).values(source=source, collection=collection, last_added=last, pulled_at=now)
        )
