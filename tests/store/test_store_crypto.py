"""StoreKey: secret formats, subkey separation, binding of ciphertexts, the key file."""

from __future__ import annotations

import base64
import multiprocessing
import os
import stat
from pathlib import Path

import pytest
import store_workers
from hypothesis import given, settings
from hypothesis import strategies as st
from maskgate.store import StoreError, StoreKey
from maskgate.store.crypto import ENV_VAR, ENV_VAR_PREVIOUS

RAW = bytes(range(32))


def test_secret_formats_are_equivalent() -> None:
    hex_key = StoreKey(RAW.hex())
    b64_key = StoreKey(base64.urlsafe_b64encode(RAW).decode())
    b64_nopad = StoreKey(base64.urlsafe_b64encode(RAW).decode().rstrip("="))
    raw_key = StoreKey(RAW)
    hashes = {k.index_hash("ns", "i-1") for k in (hex_key, b64_key, b64_nopad, raw_key)}
    assert len(hashes) == 1
    assert StoreKey(RAW.hex().upper()).index_hash("ns", "i-1") in hashes
    blob = hex_key.encrypt("ns", "ec2", 1, "i-1")
    assert b64_key.decrypt("ns", "ec2", 1, blob) == ("i-1", True)


def test_passphrase_is_derived_and_distinct() -> None:
    a, b = StoreKey("correct horse battery staple"), StoreKey("correct horse battery staple ")
    assert a.index_hash("ns", "x") == b.index_hash("ns", "x")  # surrounding whitespace is ignored
    assert a.index_hash("ns", "x") != StoreKey("another passphrase").index_hash("ns", "x")
    assert a.index_hash("ns", "x") != StoreKey(RAW).index_hash("ns", "x")


@pytest.mark.parametrize("bad", ["", "   ", b"short"])
def test_bad_secrets(bad: str | bytes) -> None:
    with pytest.raises(StoreError):
        StoreKey(bad)


def test_index_hash_is_keyed_and_namespaced() -> None:
    k = StoreKey(RAW)
    h = k.index_hash("ns", "i-1")
    assert len(h) == 32
    assert h != k.index_hash("ns2", "i-1")
    assert h != k.index_hash("ns", "i-2")
    assert h != StoreKey(StoreKey.new_secret()).index_hash("ns", "i-1")
    assert b"i-1" not in h


def test_ciphertext_is_bound_to_its_slot() -> None:
    k = StoreKey(RAW)
    blob = k.encrypt("ns", "ec2", 7, "i-0123456789abcdef0")
    assert blob != k.encrypt("ns", "ec2", 7, "i-0123456789abcdef0")  # random nonce
    assert k.decrypt("ns", "ec2", 7, blob) == ("i-0123456789abcdef0", True)
    for ns, kind, n in [("ns2", "ec2", 7), ("ns", "vpc", 7), ("ns", "ec2", 8), ("ns", "ec2", 70)]:
        with pytest.raises(StoreError) as info:
            k.decrypt(ns, kind, n, blob)
        assert "i-0123456789abcdef0" not in str(info.value)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(StoreError):
        k.decrypt("ns", "ec2", 7, tampered)
    with pytest.raises(StoreError):
        k.decrypt("ns", "ec2", 7, b"\x02" + blob[1:])


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=200), st.text(min_size=1, max_size=40))
def test_roundtrip_any_text(original: str, namespace: str) -> None:
    k = StoreKey(RAW)
    assert k.decrypt(namespace, "k", 1, k.encrypt(namespace, "k", 1, original))[0] == original


def test_rotation_reads_old_writes_new() -> None:
    old, new = StoreKey.new_secret(), StoreKey.new_secret()
    old_key = StoreKey(old)
    blob = old_key.encrypt("ns", "ec2", 1, "i-1")
    rotating = StoreKey(new, previous=[old])
    assert rotating.key_count == 2
    assert rotating.decrypt("ns", "ec2", 1, blob) == ("i-1", False)
    assert rotating.index_hashes("ns", "i-1") == [
        StoreKey(new).index_hash("ns", "i-1"),
        old_key.index_hash("ns", "i-1"),
    ]
    assert rotating.decrypt("ns", "ec2", 1, rotating.encrypt("ns", "ec2", 1, "i-1")) == ("i-1", True)
    with pytest.raises(StoreError):
        StoreKey(new).decrypt("ns", "ec2", 1, blob)
    assert old_key.rotated(new).index_hashes("ns", "i-1") == rotating.index_hashes("ns", "i-1")
    assert StoreKey(new, previous=[new, old]).key_count == 2  # duplicates dropped


def test_repr_hides_the_key() -> None:
    secret = StoreKey.new_secret()
    k = StoreKey(secret, previous=[StoreKey.new_secret()])
    assert secret not in repr(k) and "redacted" in repr(k)


def test_from_env() -> None:
    assert StoreKey.from_env({}) is None
    cur, prev1, prev2 = (StoreKey.new_secret() for _ in range(3))
    k = StoreKey.from_env({ENV_VAR: cur, ENV_VAR_PREVIOUS: f"{prev1}, {prev2}"})
    assert k is not None and k.key_count == 3
    assert k.index_hash("n", "o") == StoreKey(cur).index_hash("n", "o")


def test_load_or_create_makes_private_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "store.key"
    first = StoreKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().strip()) == 64
    again = StoreKey.load_or_create(path)
    assert first.index_hash("ns", "x") == again.index_hash("ns", "x")
    assert [p.name for p in path.parent.iterdir()] == ["store.key"]  # no temp file left behind


def test_load_or_create_reads_given_secret(tmp_path: Path) -> None:
    path = tmp_path / "store.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, (RAW.hex() + "\n").encode())
    os.close(fd)
    assert StoreKey.load_or_create(path).index_hash("a", "b") == StoreKey(RAW).index_hash("a", "b")


def test_load_or_create_race(tmp_path: Path) -> None:
    """Workers starting together must all end up with the same key."""
    path = str(tmp_path / "race.key")
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        hashes = pool.map(store_workers.load_key_hash, [path] * 8)
    assert len(set(hashes)) == 1
