"""One error hierarchy for every user-facing failure.

Every error a user can cause (a bad file, a bad field, an infeasible request) is a subclass of
:class:`CorridorError`. Each carries *where* (file, line, field) and *why*, an HTTP status for the
API and an exit code for the CLI. Internal bugs are ordinary exceptions and are never caught and
hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "ConfigError",
    "ConflictError",
    "CorridorError",
    "ImportRejected",
    "NotFoundError",
    "PermissionDenied",
    "RowError",
    "SolverError",
    "ValidationError",
]


class CorridorError(Exception):
    """Base class of every user-facing error.

    Parameters
    ----------
    message
        Why it failed, in one line.
    file, line, field
        Where it failed, when known. ``field`` is a dotted path (``sites[3].criticality``).
    """

    http_status: int = 400
    exit_code: int = 2
    code: str = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field

    def where(self) -> str:
        """``file:line: field`` for the parts that are known, or an empty string."""
        parts = []
        if self.file:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, Any]:
        """The JSON error shape shared by the CLI (``--json``) and the API."""
        return {
            "ok": False,
            "status": self.http_status,
            "error": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "field": self.field,
        }


class ValidationError(CorridorError):
    """Input data that breaks a rule: a missing field, a value out of range, a broken reference."""

    http_status = 422
    code = "invalid"


class ConfigError(CorridorError):
    """A setting or option that cannot be used as given."""

    code = "config"


class NotFoundError(CorridorError):
    """A record, scenario or file that does not exist (or that the caller may not see)."""

    http_status = 404
    code = "not_found"


class PermissionDenied(CorridorError):
    """The caller may not do this. The API answers 404 for records the caller may not see."""

    http_status = 403
    code = "forbidden"


class ConflictError(CorridorError):
    """The request conflicts with the current state (an approved plan, a duplicate key)."""

    http_status = 409
    code = "conflict"


class SolverError(CorridorError):
    """A solver found no proven answer (infeasible, unbounded, time limit without incumbent)."""

    http_status = 422
    code = "solver"

    def __init__(self, message: str, *, status: str | None = None, **where: Any) -> None:
        super().__init__(message, **where)
        self.status = status


@dataclass(frozen=True)
class RowError:
    """One bad row of an import: ``line N: field: reason``."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


class ImportRejected(ValidationError):
    """An import whose file has bad rows; nothing was written."""

    code = "import_rejected"

    def __init__(self, file: str, rows: list[RowError], *, limit: int = 20) -> None:
        shown = "; ".join(str(r) for r in rows[:limit])
        more = f" (and {len(rows) - limit} more)" if len(rows) > limit else ""
        n_rows = len({r.line for r in rows})
        problems = f" ({len(rows)} problems)" if len(rows) > n_rows else ""
        super().__init__(
            f"{n_rows} bad row(s){problems}, nothing imported: {shown}{more}",
            file=file,
        )
        self.rows = rows

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["rows"] = [{"line": r.line, "field": r.field, "reason": r.reason} for r in self.rows]
        return out
