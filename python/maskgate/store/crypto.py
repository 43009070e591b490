"""Key handling for the mapping store: keyed index hashes and authenticated value encryption.

Why: a dump of Redis or of the SQLite file must reveal no original. So

* the index (original -> pseudonym) is keyed by ``HMAC-SHA256(k_index, namespace || NUL || original)``:
  equality lookups work, but without the key nobody can test guesses against the dump;
* the value (pseudonym -> original) is ``AES-256-GCM(k_value, nonce, original, aad)`` with a random
  96-bit nonce and ``aad = namespace, kind, n``, so a ciphertext copied into another namespace or slot
  fails to decrypt instead of restoring the wrong identifier.

``k_index`` and ``k_value`` are separate HKDF-SHA256 subkeys of one 32-byte master key. The master key
comes from ``MASKGATE_STORE_KEY`` (64 hex chars or urlsafe base64 of 32 bytes; any other string is
treated as a passphrase and stretched with HKDF, which is fine for long random passphrases only), or, for
the embedded store, from a key file created with mode 0600 next to the database.

Rotation: ``StoreKey(new, previous=[old, ...])``. Reads try every key (index hash under each key, then
decryption with each), writes always use the current key, entries found under an old index hash are
re-indexed on the fly, and each backend has ``rekey()`` to rewrite everything under the current key,
after which the previous keys can be dropped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
import secrets
import stat
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .base import StoreError

__all__ = ["ENV_VAR", "ENV_VAR_PREVIOUS", "StoreKey"]

log = logging.getLogger(__name__)

ENV_VAR = "MASKGATE_STORE_KEY"
ENV_VAR_PREVIOUS = "MASKGATE_STORE_KEY_PREVIOUS"
"""Whitespace- or comma-separated previous secrets, newest first (only during a rotation)."""

_VERSION = b"\x01"
_NONCE_LEN = 12
_HEX_RE = re.compile(r"[0-9a-fA-F]{64}")
_B64_RE = re.compile(r"[A-Za-z0-9_-]{43}=?")
_PASSPHRASE_SALT = b"maskgate/store/v1/passphrase"
_INFO_INDEX = b"maskgate/store/v1/index-hmac"
_INFO_VALUE = b"maskgate/store/v1/value-aes-gcm"
_INFO_SEALED = b"maskgate/store/v1/sealed-aes-gcm"
_CANARY_CONTEXT = b"store-key-check"
_CANARY_PLAIN = b"maskgate store key check v1"


def _hkdf(material: bytes, info: bytes, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(material)


def _master_from_secret(secret: str | bytes) -> bytes:
    """32 raw bytes stay as they are; strings are hex, urlsafe base64, or a passphrase."""
    if isinstance(secret, bytes):
        if len(secret) != 32:
            raise StoreError("a raw store key must be exactly 32 bytes")
        return secret
    if not isinstance(secret, str):
        raise StoreError("store key must be str or bytes")
    text = secret.strip()
    if not text:
        raise StoreError("store key is empty")
    if _HEX_RE.fullmatch(text):
        return bytes.fromhex(text)
    if _B64_RE.fullmatch(text):
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == 32:
            return raw
    return _hkdf(text.encode("utf-8"), b"passphrase", salt=_PASSPHRASE_SALT)


class _SubKeys:
    """The purpose-bound keys derived from one master key."""

    __slots__ = ("index", "sealed", "value")

    def __init__(self, master: bytes) -> None:
        self.index = _hkdf(master, _INFO_INDEX)
        self.value = AESGCM(_hkdf(master, _INFO_VALUE))
        self.sealed = AESGCM(_hkdf(master, _INFO_SEALED))


def _aad(namespace: str, kind: str, n: int) -> bytes:
    return b"\x00".join((b"maskgate/v1", namespace.encode(), kind.encode(), str(n).encode()))


class StoreKey:
    """The current key plus optional previous keys (for reading data written before a rotation)."""

    __slots__ = ("_keys",)

    def __init__(self, current: str | bytes, previous: Sequence[str | bytes] = ()) -> None:
        if isinstance(previous, (str, bytes)):
            raise StoreError("previous must be a sequence of secrets")
        masters = [_master_from_secret(current)]
        for old in previous:
            m = _master_from_secret(old)
            if m not in masters:
                masters.append(m)
        self._keys = [_SubKeys(m) for m in masters]

    def __repr__(self) -> str:
        return f"StoreKey(<redacted>, previous={len(self._keys) - 1})"

    @property
    def key_count(self) -> int:
        """Number of keys tried on reads (1 + previous keys)."""
        return len(self._keys)

    @staticmethod
    def new_secret() -> str:
        """A fresh random secret in the canonical form (64 hex chars), e.g. for MASKGATE_STORE_KEY."""
        return secrets.token_hex(32)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StoreKey | None:
        """StoreKey from MASKGATE_STORE_KEY (+ MASKGATE_STORE_KEY_PREVIOUS), or None when unset."""
        env = os.environ if environ is None else environ
        current = env.get(ENV_VAR, "").strip()
        if not current:
            return None
        previous = [p for p in re.split(r"[\s,]+", env.get(ENV_VAR_PREVIOUS, "")) if p]
        return cls(current, previous)

    @classmethod
    def load_or_create(cls, path: Path | str, previous: Sequence[str | bytes] = ()) -> StoreKey:
        """Read the key file, or create it with a random key (mode 0600, never overwritten).

        Creation writes a private temp file (O_CREAT|O_EXCL, 0600), fsyncs it and hard-links it into
        place, so concurrent workers starting together all end up with the same complete key.
        """
        p = Path(path)
        try:
            return cls(_read_key_file(p), previous)
        except FileNotFoundError:
            pass
        p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = p.with_name(f".{p.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(cls.new_secret() + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, p)
            except FileExistsError:
                pass  # another worker won the race; use its key
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(p.parent)
        return cls(_read_key_file(p), previous)

    def rotated(self, new_current: str | bytes) -> StoreKey:
        """A StoreKey whose current key is new_current and whose previous keys are all of this one's."""
        out = StoreKey.__new__(StoreKey)
        out._keys = [_SubKeys(_master_from_secret(new_current))] + list(self._keys)
        return out

    # -- primitives used by the backends -------------------------------------------------------------

    def index_hashes(self, namespace: str, original: str) -> list[bytes]:
        """Index hash of the original under every key, current key first."""
        msg = namespace.encode() + b"\x00" + original.encode()
        return [hmac.new(k.index, msg, hashlib.sha256).digest() for k in self._keys]

    def index_hash(self, namespace: str, original: str) -> bytes:
        """Index hash under the current key (what writes use)."""
        msg = namespace.encode() + b"\x00" + original.encode()
        return hmac.new(self._keys[0].index, msg, hashlib.sha256).digest()

    def encrypt(self, namespace: str, kind: str, n: int, original: str) -> bytes:
        """version || nonce || AES-GCM(original) bound to (namespace, kind, n), under the current key."""
        nonce = os.urandom(_NONCE_LEN)
        ct = self._keys[0].value.encrypt(nonce, original.encode(), _aad(namespace, kind, n))
        return _VERSION + nonce + ct

    def decrypt(self, namespace: str, kind: str, n: int, blob: bytes) -> tuple[str, bool]:
        """(original, was_current_key). Raises StoreError if no key authenticates the blob for this slot."""
        if len(blob) < 1 + _NONCE_LEN + 16 or blob[:1] != _VERSION:
            raise StoreError("stored value has an unknown format")
        nonce, ct = blob[1 : 1 + _NONCE_LEN], blob[1 + _NONCE_LEN :]
        aad = _aad(namespace, kind, n)
        for i, k in enumerate(self._keys):
            try:
                plain = k.value.decrypt(nonce, ct, aad)
            except InvalidTag:
                continue
            return plain.decode("utf-8"), i == 0
        raise StoreError("stored value does not authenticate (wrong store key, or moved/tampered value)")

    def seal(self, context: bytes, plain: bytes) -> bytes:
        """version || nonce || AES-GCM(plain) bound to `context`, under a subkey of its own.

        For data kept beside the map (the console's captures): a key separate from the map's value
        key means a sealed blob can never be passed off as a mapping, nor a mapping as a blob."""
        nonce = os.urandom(_NONCE_LEN)
        return _VERSION + nonce + self._keys[0].sealed.encrypt(nonce, plain, b"maskgate/sealed/v1\x00" + context)

    def unseal(self, context: bytes, blob: bytes) -> bytes:
        """The plain bytes of `seal(context, ...)`, trying every key; StoreError if none authenticates."""
        return self._unseal(context, blob)[0]

    def _unseal(self, context: bytes, blob: bytes) -> tuple[bytes, bool]:
        """(plain, was_current_key) of `seal(context, ...)`; StoreError if no key authenticates it."""
        if len(blob) < 1 + _NONCE_LEN + 16 or blob[:1] != _VERSION:
            raise StoreError("sealed value has an unknown format")
        nonce, ct = blob[1 : 1 + _NONCE_LEN], blob[1 + _NONCE_LEN :]
        for i, k in enumerate(self._keys):
            try:
                return k.sealed.decrypt(nonce, ct, b"maskgate/sealed/v1\x00" + context), i == 0
            except InvalidTag:
                continue
        raise StoreError("sealed value does not authenticate (wrong store key, or moved/tampered value)")

    def canary(self) -> bytes:
        """A fixed text sealed under the current key: kept in the store, it says which key made it."""
        return self.seal(_CANARY_CONTEXT, _CANARY_PLAIN)

    def open_canary(self, blob: bytes) -> bool | None:
        """True when the current key opens the canary, False when only a previous key does, None
        when no key does (or the blob is not a canary)."""
        try:
            plain, current = self._unseal(_CANARY_CONTEXT, bytes(blob))
        except StoreError:
            return None
        return current if plain == _CANARY_PLAIN else None


def _read_key_file(path: Path) -> str:
    """Read a key file; a file still being written by a racing creator is retried briefly."""
    for _ in range(50):
        st = path.stat()
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("store key file is readable by group/others; chmod 600 it")
        text = path.read_text(encoding="utf-8").strip()
        if text:
            return text
        time.sleep(0.02)
    raise StoreError("store key file is empty")


def _fsync_dir(directory: Path) -> None:
    """Make the new directory entry durable, so a crash cannot lose a key that data was written with."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
