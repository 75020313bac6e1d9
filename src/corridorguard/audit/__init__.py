"""Tamper-evident audit log: RFC 8785 entries, RFC 9162 Merkle tree, Ed25519 checkpoints.

Storage-agnostic: :class:`AuditLog` runs over any :class:`LogStore` (an in-memory one here; the
server adds a SQL one), and :func:`verify_log` checks any sequence of entries against signed
checkpoints with nothing but the public key. See ``docs/audit.md``.
"""

from corridorguard.audit.checkpoint import (
    CHECKPOINT_FORMAT,
    Checkpoint,
    CheckpointSigner,
    generate_private_key,
    key_id,
    load_private_key_pem,
    load_public_key_pem,
    private_key_pem,
    public_key_pem,
)
from corridorguard.audit.entries import LogRecord, canonical_json, make_entry
from corridorguard.audit.log import AuditLog
from corridorguard.audit.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from corridorguard.audit.store import LogStore, MemoryLogStore
from corridorguard.audit.verify import (
    ConsistencyProof,
    InclusionProof,
    VerifyResult,
    parse_export_line,
    read_checkpoints,
    read_entries,
    verify_log,
    write_checkpoints,
    write_entries,
)

__all__ = [
    "CHECKPOINT_FORMAT",
    "EMPTY_ROOT",
    "AuditLog",
    "Checkpoint",
    "CheckpointSigner",
    "ConsistencyProof",
    "InclusionProof",
    "LogRecord",
    "LogStore",
    "MemoryLogStore",
    "MerkleTree",
    "VerifyResult",
    "canonical_json",
    "generate_private_key",
    "key_id",
    "leaf_hash",
    "load_private_key_pem",
    "load_public_key_pem",
    "make_entry",
    "node_hash",
    "parse_export_line",
    "private_key_pem",
    "public_key_pem",
    "read_checkpoints",
    "read_entries",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
    "verify_log",
    "write_checkpoints",
    "write_entries",
]
