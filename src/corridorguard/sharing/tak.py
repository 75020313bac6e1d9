"""Send Cursor-on-Target events to a TAK server over TCP or TLS, through ``pytak``.

The connection comes from :func:`pytak.protocol_factory` (which also handles ``tls://`` with
``PYTAK_TLS_CLIENT_CERT`` / ``PYTAK_TLS_CLIENT_KEY`` / ``PYTAK_TLS_CLIENT_CAFILE``). Sending to
a TAK server passes records on to its audience, so :func:`push_to_tak` requires ``to_org`` and
applies :func:`~corridorguard.sharing.policy.may_pass_on` to every record.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from configparser import ConfigParser
from urllib.parse import urlparse

from pydantic_settings import BaseSettings, SettingsConfigDict

from corridorguard.errors import ConfigError
from corridorguard.sharing.cot import cot_events
from corridorguard.sharing.policy import Actor
from corridorguard.sharing.records import IncidentRecord, RouteRecord, SensorRecord, SiteRecord

with warnings.catch_warnings():
    # pytak warns at import time when its optional aiohttp extra is absent; we do not use it.
    warnings.filterwarnings("ignore", message=".*aiohttp.*", category=UserWarning)
    import pytak

__all__ = ["TakSettings", "push_to_tak", "send_cot", "send_cot_async"]


class TakSettings(BaseSettings):
    """The TAK server the API pushes to (``POST /api/v1/tak/push``); env prefix
    ``CORRIDORGUARD_TAK_``.

    Settings
    --------
    url : str
        ``tcp://host:8087`` or ``tls://host:8089``; empty = no TAK server configured (the push
        endpoint answers 409). Env: ``CORRIDORGUARD_TAK_URL``.
    audience : str
        The organisation the TAK server's users belong to (sending to it passes records on to
        this organisation: :func:`~corridorguard.sharing.policy.may_pass_on`); ``*`` for a
        server anyone may join (CLEAR only). Env: ``CORRIDORGUARD_TAK_AUDIENCE``.
    client_cert, client_key, cafile : str
        PEM files for mutual TLS (pytak's ``PYTAK_TLS_CLIENT_CERT`` / ``_KEY`` / ``_CAFILE``).
    timeout : float
        Seconds to connect and to send (default 10).
    """

    model_config = SettingsConfigDict(env_prefix="CORRIDORGUARD_TAK_", extra="ignore")

    url: str = ""
    audience: str = ""
    client_cert: str = ""
    client_key: str = ""
    cafile: str = ""
    timeout: float = 10.0

    def tls(self) -> dict[str, str]:
        """pytak TLS settings (only those given)."""
        pairs = {
            "PYTAK_TLS_CLIENT_CERT": self.client_cert,
            "PYTAK_TLS_CLIENT_KEY": self.client_key,
            "PYTAK_TLS_CLIENT_CAFILE": self.cafile,
        }
        return {k: v for k, v in pairs.items() if v}


async def send_cot_async(
    events: Sequence[bytes],
    url: str,
    *,
    tls: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> int:
    """Send ``events`` to ``url`` (``tcp://host:port`` or ``tls://host:port``); bytes sent."""
    scheme = urlparse(url).scheme.lower()
    if scheme not in ("tcp", "tls", "ssl"):
        raise ConfigError(f"TAK URL must be tcp:// or tls://, not {url!r}", field="url")
    cfg = ConfigParser(interpolation=None)
    cfg["tak"] = {"COT_URL": url, **dict(tls or {})}
    try:
        _reader, writer = await asyncio.wait_for(pytak.protocol_factory(cfg["tak"]), timeout)
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot connect to TAK server {url}: {exc}", field="url") from None
    sent = 0
    try:
        for ev in events:
            writer.write(ev)
            sent += len(ev)
        await asyncio.wait_for(writer.drain(), timeout)
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), timeout)
    return sent


def send_cot(
    events: Sequence[bytes],
    url: str,
    *,
    tls: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> int:
    """Blocking :func:`send_cot_async`."""
    return asyncio.run(send_cot_async(events, url, tls=tls, timeout=timeout))


def push_to_tak(
    actor: Actor | None,
    url: str,
    *,
    to_org: str,
    incidents: Iterable[IncidentRecord] = (),
    sites: Iterable[SiteRecord] = (),
    routes: Iterable[RouteRecord] = (),
    sensors: Iterable[SensorRecord] = (),
    tls: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> int:
    """Send the records ``actor`` may pass on to ``to_org`` (the TAK server's audience).

    Returns the number of events sent.
    """
    events = cot_events(
        actor, incidents=incidents, sites=sites, routes=routes, sensors=sensors, to_org=to_org
    )
    if events:
        send_cot(events, url, tls=tls, timeout=timeout)
    return len(events)
