"""Benchmark: the audit log's Merkle tree against pymerkle (and a naive recompute).

Same work for both in the same run: append N leaves, the root after every append, inclusion
proofs (generate + verify) and consistency proofs (generate + verify). Prints medians over
repeats and the ratio peer time / our time (> 1 means we are faster). Also reports our full
audit path (canonical JSON entry + leaf + store, and a 10,000-entry `verify_log`).

Run: ``PYTHONPATH=src python bench/bench_audit.py [--n 10000] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time
import warnings
from collections.abc import Callable

from corridorguard.audit import (
    AuditLog,
    CheckpointSigner,
    MemoryLogStore,
    MerkleTree,
    generate_private_key,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
    verify_log,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pymerkle


def _median(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _naive_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH recomputed from the leaf hashes (what a table without a tree would do)."""
    level = leaves
    if not level:
        return hashlib.sha256(b"").digest()
    # bottom-up pairing with the odd node promoted equals the RFC's left-balanced split
    while len(level) > 1:
        nxt = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--proofs", type=int, default=1_000)
    args = ap.parse_args()
    n, reps = args.n, args.repeats
    data = [f"entry-{i}".encode() for i in range(n)]
    rng = random.Random(1)
    rows: list[tuple[str, float, float, str]] = []

    def ours_build() -> MerkleTree:
        t = MerkleTree()
        for d in data:
            t.append(d)
        return t

    def peer_build() -> object:
        t = pymerkle.InmemoryTree(algorithm="sha256")
        for d in data:
            t.append_entry(d)
        return t

    rows.append(("append N", _median(ours_build, reps), _median(peer_build, reps), "pymerkle"))

    k = min(n, 2_000)  # root after every append: pymerkle's cost grows with n

    def ours_append_root() -> None:
        t = MerkleTree()
        for d in data[:k]:
            t.append(d)
            t.root()

    def peer_append_root() -> None:
        t = pymerkle.InmemoryTree(algorithm="sha256")
        for d in data[:k]:
            t.append_entry(d)
            t.get_root()

    rows.append(
        (
            f"append+root x{k}",
            _median(ours_append_root, reps),
            _median(peer_append_root, reps),
            "pymerkle",
        )
    )

    hashes = [leaf_hash(d) for d in data]
    tree = ours_build()
    rows.append(
        (
            "root of N (cold)",
            _median(lambda: MerkleTree(hashes).root(), reps),
            _median(lambda: _naive_root(hashes), reps),
            "naive recompute",
        )
    )
    assert _naive_root(hashes) == tree.root()

    peer = peer_build()
    assert peer.get_root() == tree.root()  # type: ignore[attr-defined]
    picks = [(rng.randrange(1, n + 1), rng.randrange(0, n)) for _ in range(args.proofs)]
    picks = [(size, i % size) for size, i in picks]
    roots = {size: tree.root(size) for size, _ in picks}

    def ours_incl() -> None:
        for size, i in picks:
            p = tree.inclusion_proof(i, size)
            assert verify_inclusion(tree.leaf(i), i, size, p, roots[size])

    def peer_incl() -> None:
        for size, i in picks:
            p = peer.prove_inclusion(i + 1, size)  # type: ignore[attr-defined]
            pymerkle.verify_inclusion(peer.get_leaf(i + 1), roots[size], p)  # type: ignore[attr-defined]

    rows.append(
        (
            f"inclusion x{args.proofs}",
            _median(ours_incl, reps),
            _median(peer_incl, reps),
            "pymerkle",
        )
    )

    pairs = []
    for _ in range(args.proofs):
        a, b = sorted((rng.randrange(1, n + 1), rng.randrange(1, n + 1)))
        pairs.append((a, b))
    for a, b in pairs:
        roots.setdefault(a, tree.root(a))
        roots.setdefault(b, tree.root(b))

    def ours_cons() -> None:
        for a, b in pairs:
            p = tree.consistency_proof(a, b)
            assert verify_consistency(a, b, roots[a], roots[b], p)

    def peer_cons() -> None:
        for a, b in pairs:
            p = peer.prove_consistency(a, b)  # type: ignore[attr-defined]
            pymerkle.verify_consistency(roots[a], roots[b], p)

    rows.append(
        (
            f"consistency x{args.proofs}",
            _median(ours_cons, reps),
            _median(peer_cons, reps),
            "pymerkle",
        )
    )

    print(
        f"audit Merkle benchmark: N={n}, medians of {reps} runs "
        "(2-core machine, other jobs running)"
    )
    print(f"{'work':<22}{'ours (s)':>12}{'peer (s)':>12}{'peer/ours':>11}  peer")
    for name, ours, theirs, who in rows:
        print(f"{name:<22}{ours:>12.4f}{theirs:>12.4f}{theirs / ours:>11.1f}  {who}")

    signer = CheckpointSigner(generate_private_key())

    def full_log() -> AuditLog:
        log = AuditLog(MemoryLogStore(), signer=signer, checkpoint_every=1000)
        for i in range(n):
            log.append(
                "incident.create", actor=f"user-{i % 7}", org="ORG-A", target=f"incident/{i}"
            )
        return log

    t_log = _median(full_log, max(1, reps // 2))
    log = full_log()
    lines = [r.to_line() for r in log.store.read(0, n)]
    cps = log.store.checkpoints()
    t_ver = _median(lambda: verify_log(lines, signer.public_key, cps), reps)
    print(
        "full audit append (RFC 8785 entry + leaf + store, checkpoint/1000): "
        f"{n / t_log:,.0f} entries/s"
    )
    print(
        f"verify_log of {n} exported entries + {len(cps)} checkpoints: "
        f"{t_ver:.3f} s ({n / t_ver:,.0f} entries/s)"
    )


if __name__ == "__main__":
    main()
