"""A disk cache for what is slow to make and always the same: the seeded RSA keys of the test
PKI and the test passports (prime search dominates a cold start: ~8 s).

Entries live in ``$DOCVAL_SIM_CACHE`` (``off`` disables the cache), else
``$XDG_CACHE_HOME/docval/sim`` (``~/.cache/docval/sim``), named by a SHA-256 of the generator
version and every input, so a new generator or seed never reads an old entry. Writes go to a
temporary file in the same folder and are renamed into place, so concurrent starts (tests
running side by side) never see half an entry; a damaged entry is made again. The keys are
test keys derived from a public seed: caching them in the clear reveals nothing new.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

GENERATOR_VERSION = b"docval-sim-cache-1"


def cache_dir() -> Path | None:
    setting = os.environ.get("DOCVAL_SIM_CACHE")
    if setting == "off":
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "docval" / "sim"


def cached(kind: str, inputs: bytes, make: Callable[[], bytes], check: Callable[[bytes], object]) -> bytes:
    """``make()``'s bytes, from the cache when an entry for (kind, inputs) exists and ``check``
    accepts it; otherwise made, stored and returned."""
    folder = cache_dir()
    if folder is None:
        return make()
    path = folder / f"{kind}-{hashlib.sha256(GENERATOR_VERSION + b'|' + inputs).hexdigest()[:40]}"
    try:
        data = path.read_bytes()
        check(data)
        return data
    except (OSError, ValueError, TypeError):
        pass
    data = make()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, prefix=".tmp-") as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
    except OSError:
        pass  # a read-only home: work without the cache
    return data


def clear() -> None:
    """Forget every cached entry (``docval-sim --rebuild``)."""
    folder = cache_dir()
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
