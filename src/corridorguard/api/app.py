"""The FastAPI application: ``create_app(database_url)``.

Routes live under ``/api/v1`` (one module per resource in :mod:`corridorguard.api.routes`),
TAXII 2.1 under ``/taxii2``. OpenAPI 3.1 at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from corridorguard import __version__
from corridorguard.api.config import ServerSettings, load_signing_key
from corridorguard.api.context import AuditService, ServerContext
from corridorguard.api.errors import install_error_handlers
from corridorguard.api.routes import (
    audit,
    auth,
    exchange,
    forecasts,
    incidents,
    movements,
    orgs,
    plans,
    resource_stats,
    scenarios,
    sensors,
    sharing,
    sites,
    stats,
    taxii,
)
from corridorguard.settings import get_settings
from corridorguard.store import Store, open_store

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"

_log = logging.getLogger(__name__)


async def _checkpoint_timer(ctx: ServerContext, stop: asyncio.Event, interval: float) -> None:
    """Sign a checkpoint when entries are pending and T seconds passed, until ``stop``."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), interval)
            return
        except TimeoutError:
            pass
        try:  # in a worker thread: the writer path takes locks and does I/O
            await asyncio.to_thread(ctx.audit.idle_checkpoint)
        except Exception:  # a busy database must not end the timer; the next tick retries
            _log.exception("idle audit checkpoint failed")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the idle checkpoint timer; on shutdown let a running tick finish, then stop.

    At start the objects of the imported modules (some 300,000) move to the collector's
    permanent generation (``gc.freeze``): a full collection then no longer walks them, which
    would stall every request in flight for tens of milliseconds now and then.
    """
    gc.freeze()
    ctx: ServerContext = app.state.ctx
    interval = ctx.audit.timer_interval()
    if interval is None:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(_checkpoint_timer(ctx, stop, interval))
    try:
        yield
    finally:
        stop.set()
        await task


def create_app(
    database_url: str | None = None,
    *,
    store: Store | None = None,
    server_settings: ServerSettings | None = None,
) -> FastAPI:
    """Build the app over the store at ``database_url`` (default: settings)."""
    settings = get_settings(database_url=database_url)
    server = server_settings or ServerSettings()
    key = load_signing_key(server, settings)
    store = store or open_store(settings.database_url)
    ctx = ServerContext(
        store=store,
        audit=AuditService(
            store,
            key,
            checkpoint_every=server.audit_checkpoint_every,
            checkpoint_seconds=server.audit_checkpoint_seconds,
        ),
        settings=server,
    )
    app = FastAPI(
        title="corridorguard",
        version=__version__,
        summary="Multi-agency corridor security: incidents, plans, releasability, audit.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    app.include_router(_api_router())
    app.include_router(taxii.router)
    return app


@functools.cache
def _api_router() -> APIRouter:
    """The ``/api/v1`` routes, assembled once per process (each app copies them): a cheaper
    start, which the durability tests' hundreds of server starts notice."""
    api = APIRouter(prefix=API_PREFIX)
    for module in (auth, incidents, plans, orgs, scenarios, stats, sharing, audit):
        api.include_router(module.router)
    # issue 7: the other marked resources, sharing of every record kind, their aggregates
    for module in (sites, forecasts, movements, sensors, exchange, resource_stats):
        api.include_router(module.router)
    return api
