"""Organisations, users and API tokens (the server's identity tables and their operations).

Passwords are stored as argon2id hashes (``argon2-cffi``); API tokens as the SHA-256 of a random
256-bit secret, so a stolen database does not yield usable tokens. A token has scopes and an
expiry; :func:`resolve_token` turns a presented token into an :class:`Identity`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    func,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from corridorguard.errors import ConflictError, NotFoundError, ValidationError
from corridorguard.sharing.policy import Actor, Role
from corridorguard.store.models import Base, StringList, UTCDateTime

__all__ = [
    "ORG_KINDS",
    "SCOPES",
    "ApiTokenRow",
    "Identity",
    "OrgRow",
    "UserRow",
    "create_org",
    "create_token",
    "create_user",
    "hash_token",
    "resolve_token",
    "verify_password",
]

ORG_KINDS: Final = ("agency", "oversight")
#: Token scopes: ``read`` (GET), ``write`` (create/change records), ``admin`` (orgs and users).
SCOPES: Final = ("read", "write", "admin")
TOKEN_PREFIX: Final = "cg_"
_ID = BigInteger().with_variant(Integer, "sqlite")
_HASHER = PasswordHasher()


class OrgRow(Base):
    """An organisation: a partner agency (force) or an oversight body."""

    __tablename__ = "orgs"
    __table_args__ = (CheckConstraint("kind IN ('agency', 'oversight')", name="kind"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16), server_default=text("'agency'"))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), server_default=func.current_timestamp()
    )


class UserRow(Base):
    """A user of one organisation with one role; the password is an argon2id hash."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('reporter', 'analyst', 'planner', 'commander', 'oversight', 'admin')",
            name="role",
        ),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), server_default=func.current_timestamp()
    )


class ApiTokenRow(Base):
    """An API token: SHA-256 of the secret (hex), scopes, expiry, optional revocation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[tuple[str, ...]] = mapped_column(StringList())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Identity:
    """An authenticated caller: user, organisation (and its kind), role and token scopes."""

    user_id: int
    username: str
    org: str
    org_kind: str
    role: Role
    scopes: frozenset[str]
    token_id: int | None = None

    @property
    def actor(self) -> Actor:
        """The caller as the sharing policy sees it (user id = username)."""
        return Actor(user_id=self.username, org=self.org, role=self.role)


def _now() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    """SHA-256 (hex) of a presented token: what the database stores."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_org(session: Session, name: str, *, kind: str = "agency") -> OrgRow:
    """Add an organisation (``ConflictError`` if the name is taken)."""
    name = name.strip()
    if not name or len(name) > 200 or name == "*":
        raise ValidationError("organisation name must be 1-200 characters", field="name")
    if kind not in ORG_KINDS:
        raise ValidationError(f"kind must be one of {', '.join(ORG_KINDS)}", field="kind")
    if session.scalar(select(OrgRow.id).where(OrgRow.name == name)) is not None:
        raise ConflictError(f"organisation {name!r} exists", field="name")
    row = OrgRow(name=name, kind=kind, created_at=_now())
    session.add(row)
    _flush(session, f"organisation {name!r} exists")
    return row


def _flush(session: Session, conflict: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise ConflictError(conflict) from None


def create_user(session: Session, username: str, *, org: str, role: str, password: str) -> UserRow:
    """Add a user of organisation ``org``; oversight bodies may only hold oversight users."""
    username = username.strip()
    if not username or len(username) > 100:
        raise ValidationError("username must be 1-100 characters", field="username")
    try:
        role_ = Role(role)
    except ValueError:
        raise ValidationError(
            f"role must be one of {', '.join(r.value for r in Role)}", field="role"
        ) from None
    if len(password) < 12:
        raise ValidationError("password must have at least 12 characters", field="password")
    org_row = session.scalar(select(OrgRow).where(OrgRow.name == org))
    if org_row is None:
        raise NotFoundError(f"no organisation {org!r}", field="org")
    if (org_row.kind == "oversight") != (role_ is Role.OVERSIGHT):
        raise ValidationError(
            "oversight bodies hold oversight users only, and oversight users belong to them",
            field="role",
        )
    if session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
        raise ConflictError(f"user {username!r} exists", field="username")
    row = UserRow(
        username=username,
        org_id=org_row.id,
        role=role_.value,
        password_hash=_HASHER.hash(password),
        active=True,
        created_at=_now(),
    )
    session.add(row)
    _flush(session, f"user {username!r} exists")
    return row


def verify_password(session: Session, username: str, password: str) -> UserRow | None:
    """The active user if ``password`` matches, else ``None`` (same work either way)."""
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    stored = row.password_hash if row is not None and row.active else _DUMMY_HASH
    try:
        _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return row if row is not None and row.active else None


_DUMMY_HASH = _HASHER.hash("not a password of anyone: timing equaliser")


def default_scopes(role: Role) -> tuple[str, ...]:
    """Scopes a token gets when none are asked for."""
    return SCOPES if role is Role.ADMIN else ("read", "write")


def create_token(
    session: Session,
    username: str,
    *,
    scopes: tuple[str, ...] | None = None,
    expires_days: float = 30.0,
) -> tuple[str, ApiTokenRow]:
    """A new random token for ``username``: ``(secret, row)``; only the hash is stored."""
    user = session.scalar(select(UserRow).where(UserRow.username == username))
    if user is None or not user.active:
        raise NotFoundError(f"no active user {username!r}", field="user")
    role = Role(user.role)
    wanted = tuple(dict.fromkeys(scopes)) if scopes else default_scopes(role)
    bad = [s for s in wanted if s not in SCOPES]
    if bad:
        raise ValidationError(f"unknown scope(s): {', '.join(bad)}", field="scopes")
    if "admin" in wanted and role is not Role.ADMIN:
        raise ValidationError("only admins may hold the admin scope", field="scopes")
    if not 0 < expires_days <= 366:
        raise ValidationError("expiry must be within (0, 366] days", field="expires_days")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = _now()
    row = ApiTokenRow(
        user_id=user.id,
        token_hash=hash_token(secret),
        scopes=wanted,
        created_at=now,
        expires_at=now + timedelta(days=expires_days),
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    return secret, row


def resolve_token(session: Session, token: str) -> Identity | None:
    """The identity behind a presented token; ``None`` if unknown, expired, revoked or inactive."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    stmt = (
        select(ApiTokenRow, UserRow, OrgRow)
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .join(OrgRow, OrgRow.id == UserRow.org_id)
        .where(ApiTokenRow.token_hash == hash_token(token))
    )
    found = session.execute(stmt).first()
    if found is None:
        return None
    tok, user, org = found
    if tok.revoked_at is not None or tok.expires_at <= _now() or not user.active:
        return None
    return Identity(
        user_id=user.id,
        username=user.username,
        org=org.name,
        org_kind=org.kind,
        role=Role(user.role),
        scopes=frozenset(tok.scopes),
        token_id=tok.id,
    )
