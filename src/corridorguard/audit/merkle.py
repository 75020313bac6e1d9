"""RFC 9162 Merkle tree hashing, an append-only tree with cached subtrees, and proofs.

Hashing follows RFC 6962 / RFC 9162 §2.1 with SHA-256 and domain separation::

    MTH({})        = SHA-256()                       (the empty tree)
    leaf hash      = SHA-256(0x00 || d)
    node hash      = SHA-256(0x01 || left || right)
    MTH(D[n])      = node(MTH(D[0:k]), MTH(D[k:n]))  k = largest power of two < n

:class:`MerkleTree` keeps every *perfect, aligned* subtree hash (``2n`` hashes in all), so an
append costs O(1) amortised, the root of any size (current or historical) costs O(log n), and
inclusion (§2.1.3.1) and consistency (§2.1.4.1) proofs cost O(log² n) at most. The verifiers
(:func:`verify_inclusion`, :func:`verify_consistency`) are the iterative algorithms of RFC 9162
§2.1.3.2 and §2.1.4.2; they need nothing but hashes and sizes.

References
----------
B. Laurie, E. Messeri, R. Stradling. *Certificate Transparency Version 2.0*, RFC 9162, 2021.
B. Laurie, A. Langley, E. Kasper. *Certificate Transparency*, RFC 6962, 2013.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleTree",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the RFC 9162 hash of one log entry."""
    return hashlib.sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the RFC 9162 hash of an interior node."""
    return hashlib.sha256(_NODE + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only Merkle tree over leaf hashes, with cached perfect subtrees.

    ``levels[h][i]`` is the hash of the perfect subtree of height ``h`` covering leaves
    ``[i * 2**h, (i + 1) * 2**h)``. Any ``MTH(D[lo:hi])`` that the RFC recursion visits splits
    into one cached perfect left part and a right part of half the size or less, so it costs
    O(log n) hashes.

    Parameters
    ----------
    leaf_hashes
        Initial leaf hashes (built in O(n)).
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        row = list(leaf_hashes)
        if any(len(h) != HASH_SIZE for h in row):
            raise ValueError(f"leaf hashes must be {HASH_SIZE} bytes")
        # bulk build, level by level: the same perfect subtrees that appends would cache
        self._levels: list[list[bytes]] = [row]
        while len(row) >= 2:
            sha = hashlib.sha256
            row = [sha(_NODE + row[i] + row[i + 1]).digest() for i in range(0, len(row) - 1, 2)]
            self._levels.append(row)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0])

    def __len__(self) -> int:
        return self.size

    def append_hash(self, h: bytes) -> int:
        """Append one leaf hash; returns its index. O(1) amortised."""
        if len(h) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(h)}")
        levels = self._levels
        levels[0].append(h)
        level = 0
        while len(levels[level]) % 2 == 0:
            row = levels[level]
            parent = node_hash(row[-2], row[-1])
            if level + 1 == len(levels):
                levels.append([])
            levels[level + 1].append(parent)
            level += 1
        return len(levels[0]) - 1

    def append(self, data: bytes) -> int:
        """Hash ``data`` as a leaf and append it; returns its index."""
        return self.append_hash(leaf_hash(data))

    def leaf(self, index: int) -> bytes:
        """The leaf hash at ``index``."""
        return self._levels[0][index]

    def _range(self, lo: int, hi: int) -> bytes:
        """``MTH(D[lo:hi])`` for a subtree the RFC recursion visits (``lo`` aligned)."""
        n = hi - lo
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and lo % n == 0:
            height = n.bit_length() - 1
            return self._levels[height][lo >> height]
        k = _split(n)
        return node_hash(self._range(lo, lo + k), self._range(lo + k, hi))

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} outside 0..{self.size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """``MTH`` of the first ``size`` leaves (default: all). O(log n)."""
        return self._range(0, self._check_size(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 ``PATH(index, D[size])``, bottom-up."""
        n = self._check_size(size)
        if not 0 <= index < n:
            raise ValueError(f"leaf index {index} outside 0..{n - 1}")
        lo, hi = 0, n
        path: list[bytes] = []
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                path.append(self._range(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._range(lo, lo + k))
                lo += k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 ``PROOF(old_size, D[new_size])``, bottom-up.

        Empty when ``old_size`` is 0 or equals ``new_size``.
        """
        n = self._check_size(new_size)
        if not 0 <= old_size <= n:
            raise ValueError(f"old size {old_size} outside 0..{n}")
        if old_size in (0, n):
            return []
        lo, hi, whole = 0, n, True
        proof: list[bytes] = []
        while True:
            if old_size - lo == hi - lo:
                if not whole:
                    proof.append(self._range(lo, hi))
                break
            k = _split(hi - lo)
            if old_size - lo <= k:
                proof.append(self._range(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._range(lo, lo + k))
                lo += k
                whole = False
        proof.reverse()
        return proof


def _all_hashes(*items: bytes, proof: Sequence[bytes]) -> bool:
    return all(isinstance(h, bytes | bytearray) and len(h) == HASH_SIZE for h in (*items, *proof))


def root_from_inclusion_proof(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes | None:
    """The root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 1-5), or ``None``."""
    if not (isinstance(index, int) and isinstance(size, int)) or not 0 <= index < size:
        return None
    if not _all_hashes(leaf, proof=proof):
        return None
    fn, sn, r = index, size - 1, bytes(leaf)
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(bytes(p), r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, bytes(p))
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True when ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree ``(size, root)``."""
    got = root_from_inclusion_proof(leaf, index, size, proof)
    return got is not None and len(root) == HASH_SIZE and hmac.compare_digest(got, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True when ``proof`` shows ``(old_size, old_root)`` is a prefix of ``(new_size, new_root)``.

    RFC 9162 §2.1.4.2, plus the trivial cases: equal sizes need equal roots and an empty proof;
    an empty old tree needs the empty-tree root and an empty proof.
    """
    if not (isinstance(old_size, int) and isinstance(new_size, int)):
        return False
    if not 0 <= old_size <= new_size or not _all_hashes(old_root, new_root, proof=proof):
        return False
    if old_size == new_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    if old_size == 0:
        return not proof and hmac.compare_digest(old_root, EMPTY_ROOT)
    if not proof:
        return False
    path = [bytes(p) for p in proof]
    if old_size & (old_size - 1) == 0:
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)
