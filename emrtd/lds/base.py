"""What every LDS parser shares: size caps checked before parsing, the outer tag, and the
conversion of any parser failure into :class:`~emrtd.errors.LDSError`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .. import tlv
from ..errors import EmrtdError, LDSError
from ..sizes import DEFAULT_MAX_SIZE, MAX_SIZES

__all__ = ["DEFAULT_MAX_SIZE", "MAX_SIZES", "check_size", "outer", "parsing"]


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
