"""Ready-made virtual passports.

``bsi`` is the BSI TR-03105-5 reference passport (shipped under ``emrtd/sim/data/bsi``), a
BAC chip with extended length. ``bsi-short`` is the same chip without extended length. The
access key is the MRZ of its DG1.
"""

from __future__ import annotations

from importlib import resources

from ..errors import EmrtdError
from ..lds import dg1
from .auth import AuthKeys
from .chip import ChipConfig

PROFILES = ("bsi", "bsi-short")


def _bsi_files() -> dict[str, bytes]:
    folder = resources.files("emrtd.sim") / "data" / "bsi"
    names = ("com", "sod", "dg1", "dg2", "dg3", "dg4", "dg14", "dg15")
    return {name: (folder / f"{name}.bin").read_bytes() for name in names}


def load(name: str) -> ChipConfig:
    """The chip configuration of a named profile."""
    if name not in PROFILES:
        raise EmrtdError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
    files = _bsi_files()
    key = dg1.parse(files["dg1"]).mrz.access_key
    return ChipConfig(files=files, keys=AuthKeys(mrz_key=key), bac=True, extended_length=name == "bsi")
