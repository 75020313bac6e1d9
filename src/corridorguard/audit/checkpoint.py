"""Ed25519-signed checkpoints: a signed statement of (log, size, root, time).

Format (one JSON object; one per line in a checkpoint file)::

    {"format": "corridorguard-checkpoint/1", "log": "<log name>", "size": 1024,
     "root": "<64 hex>", "time": "2026-11-27T12:00:00.000000Z", "key_id": "<16 hex>",
     "signature": "<base64 Ed25519 signature>"}

The signature covers the RFC 8785 canonical JSON of the object *without* ``signature``.
``key_id`` is the first 8 bytes (hex) of SHA-256 over the raw 32-byte public key, so a verifier
holding several keys picks the right one and a checkpoint signed by another key is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from corridorguard.audit.entries import canonical_json, utc_now
from corridorguard.audit.merkle import HASH_SIZE
from corridorguard.errors import ValidationError

__all__ = [
    "CHECKPOINT_FORMAT",
    "Checkpoint",
    "CheckpointSigner",
    "generate_private_key",
    "key_id",
    "load_private_key_pem",
    "load_public_key_pem",
    "private_key_pem",
    "public_key_pem",
]

CHECKPOINT_FORMAT = "corridorguard-checkpoint/1"


def key_id(public_key: Ed25519PublicKey) -> str:
    """First 8 bytes (hex) of SHA-256 over the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_private_key() -> Ed25519PrivateKey:
    """A new Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM of a private key (unencrypted: protect the file)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of a public key."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key_pem(data: bytes, *, file: str | None = None) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from PEM (``ValidationError`` otherwise)."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"not a PEM private key: {exc}", file=file) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValidationError("not an Ed25519 private key", file=file)
    return key


def load_public_key_pem(data: bytes, *, file: str | None = None) -> Ed25519PublicKey:
    """Load an Ed25519 public key from PEM (``ValidationError`` otherwise)."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"not a PEM public key: {exc}", file=file) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValidationError("not an Ed25519 public key", file=file)
    return key


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed (log, size, root, time) statement. See the module docstring for the format."""

    log: str
    size: int
    root: bytes
    time: str
    key_id: str
    signature: bytes

    def body(self) -> dict[str, Any]:
        """The signed part, as a JSON object."""
        return {
            "format": CHECKPOINT_FORMAT,
            "log": self.log,
            "size": self.size,
            "root": self.root.hex(),
            "time": self.time,
            "key_id": self.key_id,
        }

    def signed_bytes(self) -> bytes:
        """RFC 8785 canonical JSON of :meth:`body`: the bytes the signature covers."""
        return canonical_json(self.body())

    def to_dict(self) -> dict[str, Any]:
        """The full checkpoint as a JSON object."""
        out = self.body()
        out["signature"] = base64.b64encode(self.signature).decode("ascii")
        return out

    def to_json(self) -> str:
        """One canonical JSON line."""
        return canonical_json(self.to_dict()).decode("utf-8")

    @classmethod
    def from_dict(cls, obj: Any, *, file: str | None = None, line: int | None = None) -> Checkpoint:
        """Parse a checkpoint object (``ValidationError`` on a malformed one)."""
        where: dict[str, Any] = {"file": file, "line": line}
        if not isinstance(obj, dict):
            raise ValidationError("checkpoint is not a JSON object", **where)
        if obj.get("format") != CHECKPOINT_FORMAT:
            raise ValidationError(
                f"checkpoint format is not {CHECKPOINT_FORMAT}", field="format", **where
            )
        try:
            size = obj["size"]
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise ValueError("size must be a non-negative integer")
            root = bytes.fromhex(obj["root"])
            if len(root) != HASH_SIZE:
                raise ValueError("root must be 32 bytes of hex")
            sig = base64.b64decode(obj["signature"], validate=True)
            return cls(
                log=str(obj["log"]),
                size=size,
                root=root,
                time=str(obj["time"]),
                key_id=str(obj["key_id"]),
                signature=sig,
            )
        except KeyError as exc:
            raise ValidationError(f"checkpoint lacks {exc.args[0]}", **where) from None
        except (ValueError, TypeError, binascii.Error) as exc:
            raise ValidationError(f"bad checkpoint: {exc}", **where) from None

    @classmethod
    def from_json(
        cls, text: str | bytes, *, file: str | None = None, line: int | None = None
    ) -> Checkpoint:
        """Parse one JSON checkpoint."""
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise ValidationError(f"checkpoint is not JSON: {exc}", file=file, line=line) from None
        return cls.from_dict(obj, file=file, line=line)

    def verify(self, public_key: Ed25519PublicKey) -> bool:
        """True when the signature is valid and made by ``public_key``."""
        if self.key_id != key_id(public_key):
            return False
        try:
            public_key.verify(self.signature, self.signed_bytes())
        except InvalidSignature:
            return False
        return True


class CheckpointSigner:
    """Signs checkpoints with one Ed25519 key.

    Parameters
    ----------
    private_key
        The log's signing key.
    log
        The log's name (``origin``), part of every signed checkpoint.
    """

    def __init__(self, private_key: Ed25519PrivateKey, *, log: str = "corridorguard") -> None:
        self._key = private_key
        self.log = log
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    def sign(self, size: int, root: bytes, *, time: str | None = None) -> Checkpoint:
        """A signed checkpoint of ``(size, root)``."""
        unsigned = Checkpoint(
            log=self.log,
            size=size,
            root=root,
            time=time or utc_now(),
            key_id=self.key_id,
            signature=b"",
        )
        sig = self._key.sign(unsigned.signed_bytes())
        return Checkpoint(
            log=unsigned.log,
            size=size,
            root=root,
            time=unsigned.time,
            key_id=self.key_id,
            signature=sig,
        )
