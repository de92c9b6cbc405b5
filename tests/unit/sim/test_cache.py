"""The virtual passport's disk cache: warm equals cold, damage is repaired, ``off`` disables it."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from emrtd.sim import cache, pki


def _der(key: object) -> bytes:
    assert hasattr(key, "private_bytes")
    return key.private_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_warm_key_equals_cold_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key read from the cache is the key the generator makes without it."""
    monkeypatch.setenv("DOCVAL_SIM_CACHE", "off")
    cold = _der(pki.rsa_key(pki.Seed("cache test"), "k", 1024))
    monkeypatch.setenv("DOCVAL_SIM_CACHE", str(tmp_path))
    first = _der(pki.rsa_key(pki.Seed("cache test"), "k", 1024))
    assert len(list(tmp_path.iterdir())) == 1
    warm = _der(pki.rsa_key(pki.Seed("cache test"), "k", 1024))
    assert cold == first == warm


def test_entries_are_keyed_by_every_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another seed, label or size never reads an existing entry."""
    monkeypatch.setenv("DOCVAL_SIM_CACHE", str(tmp_path))
    a = _der(pki.rsa_key(pki.Seed("s1"), "k", 1024))
    b = _der(pki.rsa_key(pki.Seed("s2"), "k", 1024))
    c = _der(pki.rsa_key(pki.Seed("s1"), "k2", 1024))
    assert len({a, b, c}) == 3
    assert len(list(tmp_path.iterdir())) == 3


def test_damaged_entry_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A truncated or foreign entry is replaced by a freshly made key, never used."""
    monkeypatch.setenv("DOCVAL_SIM_CACHE", str(tmp_path))
    good = _der(pki.rsa_key(pki.Seed("dmg"), "k", 1024))
    (entry,) = tmp_path.iterdir()
    entry.write_bytes(good[:40])
    assert _der(pki.rsa_key(pki.Seed("dmg"), "k", 1024)) == good
    entry.write_bytes(_der(pki.rsa_key(pki.Seed("other"), "k", 2048)))
    assert _der(pki.rsa_key(pki.Seed("dmg"), "k", 1024)) == good


def test_off_and_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``off`` writes nothing; ``clear()`` (``docval-sim --rebuild``) empties the folder."""
    monkeypatch.setenv("DOCVAL_SIM_CACHE", "off")
    assert cache.cache_dir() is None
    calls: list[int] = []

    def make() -> bytes:
        calls.append(1)
        return b"v"

    assert cache.cached("x", b"i", make, bytes) == b"v"
    assert cache.cached("x", b"i", make, bytes) == b"v"
    assert len(calls) == 2
    folder = tmp_path / "c"
    monkeypatch.setenv("DOCVAL_SIM_CACHE", str(folder))
    cache.cached("x", b"i", lambda: b"v", bytes)
    assert cache.cached("x", b"i", lambda: b"other", bytes) == b"v"
    cache.clear()
    assert not folder.exists()


def test_unwritable_folder_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache folder that cannot be created (a file in its place) costs speed, not the result."""
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    monkeypatch.setenv("DOCVAL_SIM_CACHE", str(blocker / "sub"))
    assert cache.cached("x", b"i", lambda: b"v", bytes) == b"v"
