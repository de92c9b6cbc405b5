"""Chip dumps: every file read from a passport, kept in a folder to verify again later without
the chip (``docval-client dump DIR`` / ``docval-client verify DIR``), as Proxmark3's
``hf emrtd dump`` and ``info --dir`` do.

A dump folder holds one ``NAME.bin`` per file, named as DocVal names files (``com``,
``cardaccess``, ``cardsecurity``, ``sod``, ``dg1`` … ``dg16``), exactly as the chip gave it,
and ``manifest.json``: the tool and its version, the reader, the ATR, the access-control
protocol, when and how long, APDU and byte counts, each file's size and SHA-256, and the
Chip and Active Authentication results seen live. Never keys or the access key; the files
themselves hold personal data (the dump exists to keep them: store it accordingly).

Verifying a dump runs Passive Authentication and the parsers again against a trust store.
Chip and Active Authentication need the chip: their results are taken from the manifest, as
recorded live, and said to be so.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from emrtd import passiveauth
from emrtd.docval import result, verdict
from emrtd.errors import EmrtdError
from emrtd.sizes import DEFAULT_MAX_SIZE, MAX_SIZES
from emrtd.truststore import TrustStore

MANIFEST = "manifest.json"
FILE_NAMES = ("com", "cardaccess", "cardsecurity", "sod", *(f"dg{n}" for n in range(1, 17)))
MAX_MANIFEST = 64 * 1024
NOT_RECHECKED = (
    "chip and active authentication: as recorded live when the dump was made "
    "(they need the chip: not re-checkable offline)"
)


class DumpError(EmrtdError):
    """A dump folder that cannot be written or read back."""


def write(folder: Path, files: dict[str, bytes], manifest: dict[str, Any]) -> Path:
    """Write ``files`` and the manifest (with sizes and hashes added) into ``folder``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        listed = {}
        for name in FILE_NAMES:
            if name in files:
                (folder / f"{name}.bin").write_bytes(files[name])
                listed[name] = {"size": len(files[name]), "sha256": hashlib.sha256(files[name]).hexdigest()}
        (folder / MANIFEST).write_text(json.dumps({**manifest, "files": listed}, indent=2) + "\n")
    except OSError as exc:
        raise DumpError(f"cannot write the dump to {folder}: {exc.strerror or exc}") from None
    return folder


def load(folder: Path) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The files and manifest of a dump; sizes are capped and hashes checked before parsing."""
    path = folder / MANIFEST
    try:
        if path.stat().st_size > MAX_MANIFEST:
            raise DumpError(f"{path} is larger than {MAX_MANIFEST} bytes: not a dump manifest")
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise DumpError(
            f"{folder} is not a dump: it has no {MANIFEST} (make one with docval-client dump)"
        ) from None
    except (OSError, ValueError) as exc:
        raise DumpError(f"cannot read {path}: {exc}") from None
    listed = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(listed, dict):
        raise DumpError(f"{path} lists no files")
    files: dict[str, bytes] = {}
    for name, facts in listed.items():
        if name not in FILE_NAMES or not isinstance(facts, dict):
            raise DumpError(f"{path}: unknown file {name!r}")
        file = folder / f"{name}.bin"
        limit = MAX_SIZES.get(name, DEFAULT_MAX_SIZE)
        try:
            if file.stat().st_size > limit:
                raise DumpError(f"{file} is larger than a {name} can be ({limit} bytes)")
            data = file.read_bytes()
        except OSError as exc:
            raise DumpError(f"cannot read {file}: {exc.strerror or exc}") from None
        if hashlib.sha256(data).hexdigest() != facts.get("sha256"):
            raise DumpError(f"{file} was changed after the dump (its SHA-256 differs from the manifest's)")
        files[name] = data
    return files, manifest


_RECORDED = {"SUCCESS": verdict.PASSED, "UNAVAILABLE": verdict.NOT_OFFERED}


def _recorded(value: Any, what: str) -> verdict.Outcome:
    if value in _RECORDED:
        return _RECORDED[value]
    return verdict.failed(f"{what} FAILED when the dump was made")


def verify(folder: Path, trust: TrustStore, now: datetime) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The DocVal result for a dump: PA and the parsers now, CA/AA as recorded; and notes."""
    files, manifest = load(folder)
    recorded = manifest.get("live")
    live: dict[str, Any] = recorded if isinstance(recorded, dict) else {}
    pa = passiveauth.verify(files, trust, now)
    chip = _recorded(live.get("chipAuthentication"), "chip authentication")
    active = _recorded(live.get("activeAuthentication"), "active authentication")
    result_files = {name: data for name, data in files.items() if name == "sod" or name.startswith("dg")}
    passport = result.build(
        str(manifest.get("validationId", "dump")), result_files, pa, verdict.verdicts(pa, chip, active)
    )
    return passport, (NOT_RECHECKED,)
