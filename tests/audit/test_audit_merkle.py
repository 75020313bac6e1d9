"""RFC 9162 Merkle tree: published vectors, proofs, corrupted proofs, oracle agreement."""

from __future__ import annotations

import hashlib

import pymerkle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corridorguard.audit.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

# The 8-leaf vector set of certificate-transparency-go merkletree tests, as republished in
# transparency-dev/merkle proof/verify_test.go (leaves, roots per size, proofs).
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    bytes.fromhex(h)
    for h in [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]


def _h(*hexes: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


# (leaf index 0-based, tree size, proof)
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        _h(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        5,
        8,
        _h(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (2, 3, _h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (
        1,
        5,
        _h(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
]

CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        _h(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        6,
        8,
        _h(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (
        2,
        5,
        _h(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        6,
        7,
        _h(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
]

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def _mth(leaves: list[bytes]) -> bytes:
    """The RFC 9162 §2.1.1 definition, recursively (independent of MerkleTree)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


@pytest.fixture(scope="module")
def tree8() -> MerkleTree:
    t = MerkleTree()
    for leaf in LEAVES:
        t.append(leaf)
    return t


def test_empty_tree_and_hash_prefixes() -> None:
    assert MerkleTree().root() == EMPTY_ROOT
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    # RFC 6962 test vectors of transparency-dev/merkle rfc6962_test.go
    assert (
        leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert (
        leaf_hash(b"L123456").hex()
        == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert (
        node_hash(b"N123", b"N456").hex()
        == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_published_vectors(tree8: MerkleTree, size: int) -> None:
    assert tree8.root(size) == ROOTS[size - 1]
    incremental = MerkleTree()
    for leaf in LEAVES[:size]:
        incremental.append(leaf)
    assert incremental.root() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_vectors(tree8: MerkleTree, index: int, size: int, proof: list[bytes]) -> None:
    assert tree8.inclusion_proof(index, size) == proof
    leaf = leaf_hash(LEAVES[index])
    assert root_from_inclusion_proof(leaf, index, size, proof) == ROOTS[size - 1]
    assert verify_inclusion(leaf, index, size, proof, ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_vectors(tree8: MerkleTree, old: int, new: int, proof: list[bytes]) -> None:
    assert tree8.consistency_proof(old, new) == proof
    assert verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof)


def _flip(h: bytes, bit: int) -> bytes:
    return bytes([h[0] ^ bit]) + h[1:]


def corrupt_inclusion(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes):
    """Bad probes after transparency-dev's corruptInclusionProof (every one must fail)."""
    probes = [
        (index - 1, size, root, leaf, proof),
        (index + 1, size, root, leaf, proof),
        (index ^ 2, size, root, leaf, proof),
        (index, size * 2, root, leaf, proof),
        (index, size // 2, root, leaf, proof),
        (index, size, root, b"WrongLeaf", proof),
        (index, size, EMPTY_ROOT, leaf, proof),
        (index, size, SOME_HASH, leaf, proof),
        (index, size, root, leaf, [*proof, b""]),
        (index, size, root, leaf, [*proof, root]),
        (index, size, root, leaf, [b"", *proof]),
        (index, size, root, leaf, [root, *proof]),
    ]
    for i in range(len(proof)):
        for bit in (1, 8, 128):
            bad = list(proof)
            bad[i] = _flip(bad[i], bit)
            probes.append((index, size, root, leaf, bad))
    if proof:
        probes.append((index, size, root, leaf, proof[:-1]))
    if len(proof) > 1:
        probes.append((index, size, root, leaf, [proof[0], SOME_HASH, *proof[1:]]))
    return probes


def corrupt_consistency(old: int, new: int, r1: bytes, r2: bytes, proof: list[bytes]):
    """Bad probes after transparency-dev's corruptConsistencyProof."""
    probes = [
        (old - 1, new, r1, r2, proof),
        (old + 1, new, r1, r2, proof),
        (old ^ 2, new, r1, r2, proof),
        (old, new * 2, r1, r2, proof),
        (old, new // 2, r1, r2, proof),
        (old, new, b"WrongRoot", r2, proof),
        (old, new, r1, b"WrongRoot", proof),
        (old, new, r2, r1, proof),
        (old, new, r1, r2, []),
        (old, new, r1, r2, [*proof, b""]),
        (old, new, r1, r2, [*proof, r1]),
        (old, new, r1, r2, [*proof, r2]),
        (old, new, r1, r2, [b"", *proof]),
        (old, new, r1, r2, [r1, *proof]),
        (old, new, r1, r2, [r2, *proof]),
        (old, new, r1, r2, [proof[0], *proof]),
        (old, new, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        for bit in (1, 16, 128):
            bad = list(proof)
            bad[i] = _flip(bad[i], bit)
            probes.append((old, new, r1, r2, bad))
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION[1:])
def test_every_corrupted_inclusion_vector_is_rejected(index: int, size: int, proof) -> None:
    leaf = leaf_hash(LEAVES[index])
    for probe in corrupt_inclusion(index, size, proof, ROOTS[size - 1], leaf):
        assert not verify_inclusion(probe[3], probe[0], probe[1], probe[4], probe[2]), probe


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY[1:])
def test_every_corrupted_consistency_vector_is_rejected(old: int, new: int, proof) -> None:
    for probe in corrupt_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof):
        assert not verify_consistency(*probe), probe


def test_trivial_consistency_cases() -> None:
    r1, r2 = ROOTS[0], ROOTS[1]
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, r2, [])
    assert verify_consistency(3, 3, r2, r2, [])
    assert not verify_consistency(0, 5, r1, r2, [])  # old root of an empty tree must be empty
    assert not verify_consistency(3, 3, r1, r2, [])  # same size, different roots
    assert not verify_consistency(3, 3, r1, r1, [EMPTY_ROOT])  # non-empty proof
    assert not verify_consistency(2, 1, r1, r2, [])  # time travel
    assert not verify_consistency(1, 2, r1, r2, [])  # missing proof
    two = MerkleTree([leaf_hash(b"a"), leaf_hash(b"b")])
    good = two.consistency_proof(1, 2)
    assert verify_consistency(1, 2, two.root(1), two.root(), good)
    assert not verify_consistency(1, 2, two.root(1), two.root(), [*good, SOME_HASH])  # too long


def test_inclusion_edge_cases() -> None:
    h = leaf_hash(b"data")
    assert verify_inclusion(h, 0, 1, [], h)
    assert not verify_inclusion(h, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], h)
    for index, size in [(0, 0), (1, 0), (2, 1), (-1, 3)]:
        assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
    t = MerkleTree([h])
    with pytest.raises(ValueError):
        t.inclusion_proof(1)
    with pytest.raises(ValueError):
        t.root(2)
    with pytest.raises(ValueError):
        t.consistency_proof(2, 1)
    with pytest.raises(ValueError):
        t.append_hash(b"short")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=12), min_size=1, max_size=70, unique=True), st.data())
def test_random_trees_proofs_round_trip(leaves: list[bytes], data: st.DataObject) -> None:
    """Distinct leaves (with duplicates, a neighbour's proof is legitimately the same)."""
    t = MerkleTree(leaf_hash(x) for x in leaves)
    n = len(leaves)
    assert t.root() == _mth(leaves)
    size = data.draw(st.integers(1, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(0, size), label="old")
    root = _mth(leaves[:size])
    assert t.root(size) == root
    proof = t.inclusion_proof(index, size)
    assert verify_inclusion(leaf_hash(leaves[index]), index, size, proof, root)
    for probe in corrupt_inclusion(index, size, proof, root, leaf_hash(leaves[index])):
        assert not verify_inclusion(probe[3], probe[0], probe[1], probe[4], probe[2]), probe
    cproof = t.consistency_proof(old, size)
    old_root = _mth(leaves[:old])
    assert verify_consistency(old, size, old_root, root, cproof)
    if cproof:
        for probe in corrupt_consistency(old, size, old_root, root, cproof):
            assert not verify_consistency(*probe), probe


def test_agrees_with_pymerkle_oracle() -> None:
    peer = pymerkle.InmemoryTree(algorithm="sha256")
    ours = MerkleTree()
    for i in range(300):
        data = f"entry-{i}".encode()
        peer.append_entry(data)
        ours.append(data)
        if i % 37 == 0 or i == 299:
            assert peer.get_root() == ours.root(), i
    assert peer.get_root(129) == ours.root(129)


def test_exhaustive_small_trees() -> None:
    """Every (index, size) and (old, new) pair up to 33 leaves proves and verifies."""
    leaves = [f"leaf-{i}".encode() for i in range(33)]
    t = MerkleTree(leaf_hash(x) for x in leaves)
    roots = [_mth(leaves[:n]) for n in range(34)]
    for n in range(1, 34):
        assert t.root(n) == roots[n]
        for i in range(n):
            assert verify_inclusion(t.leaf(i), i, n, t.inclusion_proof(i, n), roots[n])
        for m in range(n + 1):
            proof = t.consistency_proof(m, n)
            assert verify_consistency(m, n, roots[m], roots[n], proof), (m, n)
            if proof:
                assert not verify_consistency(m, n, roots[m], roots[n], proof[:-1])
