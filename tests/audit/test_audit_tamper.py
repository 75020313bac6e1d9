"""Tampering with a 10,000-entry log is detected at the first bad index."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridorguard.audit import (
    AuditLog,
    CheckpointSigner,
    MemoryLogStore,
    generate_private_key,
    leaf_hash,
    verify_log,
)

N = 10_000
SIGNER = CheckpointSigner(generate_private_key(), log="tamper-test")


@pytest.fixture(scope="module")
def exported() -> tuple[list[bytes], list]:
    log = AuditLog(MemoryLogStore(), signer=SIGNER, checkpoint_every=1000)
    for i in range(N):
        log.append(
            ["incident.create", "plan.approve", "export.stix", "login"][i % 4],
            actor=f"user-{i % 17}",
            org=["ORG-A", "ORG-B", "OVERSIGHT"][i % 3],
            target=f"incident/{i}",
            outcome="denied" if i % 11 == 0 else "ok",
            detail={"request": f"r{i}", "n": i, "note": "ünïcode ✓"},
            time=f"2026-11-27T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
        )
    lines = [r.to_line() for r in log.store.read(0, N)]
    return lines, list(log.store.checkpoints())


def _check(lines: list[bytes], cps: list, expected_bad: int | None) -> None:
    result = verify_log(lines, SIGNER.public_key, cps)
    assert result.first_bad == expected_bad, result
    assert result.ok is (expected_bad is None)


def test_untouched_log_verifies(exported) -> None:
    lines, cps = exported
    result = verify_log(lines, SIGNER.public_key, cps)
    assert result.ok and result.entries == N and result.covered == N and result.checkpoints == 10


def _mutations(line: bytes, rng: random.Random, count: int) -> list[tuple[int, int]]:
    """(position, new byte) pairs, every one different from the original byte."""
    out = []
    for pos in rng.sample(range(len(line)), min(count, len(line))):
        new = (line[pos] + rng.randrange(1, 256)) % 256
        out.append((pos, new))
    return out


def test_sampled_single_byte_changes_are_located(exported) -> None:
    lines, cps = exported
    rng = random.Random(20261127)
    targets = [0, 1, 999, 1000, 5000, N - 1, *rng.sample(range(N), 16)]
    for index in targets:
        for pos, new in _mutations(lines[index], rng, 3):
            bad = list(lines)
            bad[index] = lines[index][:pos] + bytes([new]) + lines[index][pos + 1 :]
            _check(bad, cps, index)


@pytest.mark.parametrize("index", [3, pytest.param(7777, marks=pytest.mark.slow)])
def test_every_byte_of_one_entry(exported, index: int) -> None:
    """Every position of one line (all fields, the leaf hash and the wrapper).

    The cost of a check grows with the index (entries before it are replayed), so the fast run
    uses an early entry and the slow run a late one.
    """
    lines, cps = exported
    head, tail = lines[:index], lines[index + 1 :]
    for pos in range(len(lines[index])):
        for delta in (1, 0x20):
            byte = (lines[index][pos] + delta) % 256
            changed = lines[index][:pos] + bytes([byte]) + lines[index][pos + 1 :]
            _check([*head, changed, *tail], cps, index)


@pytest.mark.parametrize("index", [0, 1, 500, 999, 1000, 4321, N - 2, N - 1])
def test_deletion_is_located(exported, index: int) -> None:
    lines, cps = exported
    bad = lines[:index] + lines[index + 1 :]
    # Deleting the very last entry is a truncation: the checkpoint at N reports index N - 1.
    _check(bad, cps, index)


@pytest.mark.parametrize(("i", "j"), [(0, 1), (10, 9000), (998, 999), (N - 2, N - 1), (4000, 4001)])
def test_swap_is_located(exported, i: int, j: int) -> None:
    lines, cps = exported
    bad = list(lines)
    bad[i], bad[j] = bad[j], bad[i]
    _check(bad, cps, min(i, j))


@pytest.mark.parametrize("index", [0, 3000, N - 1])
def test_duplication_is_located(exported, index: int) -> None:
    lines, cps = exported
    bad = [*lines[: index + 1], lines[index], *lines[index + 1 :]]
    _check(bad, cps, index + 1)


@pytest.mark.parametrize("keep", [0, 1, 999, 1000, 1001, 9000, N - 1])
def test_truncation_against_kept_checkpoints(exported, keep: int) -> None:
    lines, cps = exported
    _check(lines[:keep], cps, keep)


def test_truncation_beyond_checkpoints_is_undetectable_but_honest(exported) -> None:
    """Without a checkpoint beyond size S, entries after S are not covered."""
    lines, cps = exported
    kept = [c for c in cps if c.size <= 5000]
    result = verify_log(lines[:7000], SIGNER.public_key, kept)
    assert result.ok and result.covered == 5000


def test_rewrite_with_recomputed_leaf_hash_is_caught_by_checkpoint(exported) -> None:
    """An attacker who recomputes the stored leaf hash still fails the signed root."""
    lines, cps = exported
    index = 4567
    line = lines[index].replace(b'"outcome":"ok"', b'"outcome":"no"')
    assert line != lines[index]
    data = line[len(b'{"entry":') : -len(b',"leaf":"') - 64 - 2]
    forged = b'{"entry":' + data + b',"leaf":"' + leaf_hash(data).hex().encode() + b'"}'
    bad = list(lines)
    bad[index] = forged
    # Located to the first entry after the last checkpoint that still matched (size 4000).
    _check(bad, cps, 4000)


def test_forged_or_foreign_checkpoints_fail(exported) -> None:
    lines, cps = exported
    other = CheckpointSigner(generate_private_key(), log="tamper-test")
    fake = other.sign(N, cps[-1].root)
    result = verify_log(lines, SIGNER.public_key, [*cps, fake])
    assert not result.ok and "signature" in result.reason and result.entries == N
    # A split view: two signed checkpoints of the same size with different roots.
    split = SIGNER.sign(N, bytes(32))
    assert not verify_log(lines, SIGNER.public_key, [*cps, split]).ok
    bad_empty = SIGNER.sign(0, bytes(32))
    assert verify_log(lines, SIGNER.public_key, [bad_empty]).first_bad == 0


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(1, 60),
    every=st.integers(1, 20),
    kind=st.sampled_from(["byte", "delete", "swap", "truncate", "duplicate"]),
    data=st.data(),
)
def test_hypothesis_tampering(n: int, every: int, kind: str, data: st.DataObject) -> None:
    signer = CheckpointSigner(generate_private_key())
    log = AuditLog(MemoryLogStore(), signer=signer, checkpoint_every=every)
    for i in range(n):
        log.append("x", actor=data.draw(st.text(max_size=5), label="actor"), detail={"i": i})
    cps = list(log.store.checkpoints())
    if not cps or cps[-1].size != n:
        cps.append(log.checkpoint())
    lines = [r.to_line() for r in log.store.read(0, n)]
    i = data.draw(st.integers(0, n - 1), label="i")
    if kind == "byte":
        pos = data.draw(st.integers(0, len(lines[i]) - 1), label="pos")
        delta = data.draw(st.integers(1, 255), label="delta")
        lines[i] = lines[i][:pos] + bytes([(lines[i][pos] + delta) % 256]) + lines[i][pos + 1 :]
        expected = i
    elif kind == "delete":
        del lines[i]
        expected = i
    elif kind == "swap":
        j = data.draw(st.integers(0, n - 1).filter(lambda j: j != i), label="j") if n > 1 else i
        lines[i], lines[j] = lines[j], lines[i]
        expected = min(i, j) if j != i else None
    elif kind == "truncate":
        lines = lines[:i]
        expected = i
    else:
        lines.insert(i, lines[i])
        expected = i + 1
    result = verify_log(lines, signer.public_key, cps)
    assert result.first_bad == expected, (kind, result)
    assert result.ok is (expected is None)


@pytest.mark.slow
def test_slow_ten_thousand_byte_positions(exported) -> None:
    lines, cps = exported
    rng = random.Random(7)
    done = 0
    total = int(os.environ.get("CORRIDORGUARD_AUDIT_SLOW_FLIPS", "10000"))
    while done < total:
        index = rng.randrange(N)
        pos = rng.randrange(len(lines[index]))
        bad = list(lines)
        bad[index] = (
            lines[index][:pos]
            + bytes([lines[index][pos] ^ (1 << rng.randrange(8))])
            + lines[index][pos + 1 :]
        )
        _check(bad, cps, index)
        done += 1
