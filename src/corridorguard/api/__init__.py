"""The HTTP API (FastAPI): ``create_app`` and ``corridorguard serve``. See ``docs/api.md``."""

from corridorguard.api.app import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]
