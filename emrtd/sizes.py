"""The largest file accepted per LDS file name: the reader stops there and every parser
refuses more, before a byte of it is parsed."""

from __future__ import annotations

KiB = 1024

#: Largest file accepted per LDS file name. Real chips hold at most a few hundred KiB in all;
#: anything larger is refused before a byte of it is parsed.
MAX_SIZES: dict[str, int] = {
    "com": 1 * KiB,
    "cardaccess": 4 * KiB,
    "cardsecurity": 16 * KiB,
    "atrinfo": 1 * KiB,
    "sod": 64 * KiB,
    "dg1": 1 * KiB,
    "dg2": 1024 * KiB,
    "dg3": 1024 * KiB,
    "dg4": 1024 * KiB,
    "dg5": 512 * KiB,
    "dg6": 512 * KiB,
    "dg7": 512 * KiB,
    "dg11": 64 * KiB,
    "dg12": 512 * KiB,
    "dg13": 64 * KiB,
    "dg14": 16 * KiB,
    "dg15": 8 * KiB,
    "dg16": 64 * KiB,
}
DEFAULT_MAX_SIZE = 64 * KiB
