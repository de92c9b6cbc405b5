"""What every LDS parser shares: size caps checked before parsing, the outer tag, and the
conversion of any parser failure into :class:`~emrtd.errors.LDSError`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .. import tlv
from ..errors import EmrtdError, LDSError

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


def check_size(name: str, raw: bytes) -> None:
    limit = MAX_SIZES.get(name, DEFAULT_MAX_SIZE)
    if len(raw) > limit:
        raise LDSError(f"{len(raw)} bytes exceed the {limit}-byte limit", step=name)
    if not raw:
        raise LDSError("file is empty", step=name)


def outer(name: str, raw: bytes, tag: int) -> tlv.TLV:
    """Check the size, then decode the single outer object with ``tag`` (lenient lengths)."""
    check_size(name, raw)
    try:
        return tlv.decode_single(raw, der=False, tag=tag)
    except EmrtdError as exc:
        raise LDSError(exc.message, step=name) from None


@contextmanager
def parsing(name: str) -> Iterator[None]:
    """Turn whatever a parser raises into an LDSError naming the file."""
    try:
        yield
    except LDSError as exc:
        if exc.step is None:
            exc.step = name
        raise
    except EmrtdError as exc:
        raise LDSError(exc.message, step=name) from None
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError) as exc:
        raise LDSError(f"malformed: {exc}", step=name) from None
