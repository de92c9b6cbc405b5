"""Reading the ICAO PKD's LDIF downloads (RFC 2849, the subset the PKD uses): entries
separated by blank lines, attributes ``name: value`` or ``name:: base64``, long lines folded
with a leading space, ``#`` comments. The PKD puts master lists in ``pkdMasterListContent``,
certificates in ``userCertificate;binary`` and CRLs in ``certificateRevocationList;binary``.
Parsing only: :meth:`emrtd.truststore.TrustStore.load` decides what each object is worth."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator

from .errors import TrustStoreError

Entry = dict[str, list[bytes]]


def _lines(text: str) -> Iterator[str]:
    """Logical lines: folded continuations joined, comments dropped, blank lines kept."""
    current: str | None = None
    for raw in text.splitlines():
        if raw.startswith(" ") and current is not None:
            current += raw[1:]
            continue
        if current is not None:
            yield current
        current = None if raw.startswith("#") else raw
    if current is not None:
        yield current


def entries(text: str, source: str) -> Iterator[Entry]:
    """The entries of an LDIF text, attribute names lower-cased (options such as ``;binary``
    kept), values as bytes. A malformed line is a TrustStoreError naming the file."""
    entry: Entry = {}
    for number, line in enumerate(_lines(text), 1):
        if not line.strip():
            if entry:
                yield entry
            entry = {}
            continue
        name, sep, value = line.partition(":")
        if not sep or not name:
            raise TrustStoreError(f"{source}: LDIF line {number} is not 'attribute: value'")
        if value.startswith(":"):
            try:
                data = base64.b64decode(value[1:].strip(), validate=True)
            except (binascii.Error, ValueError):
                raise TrustStoreError(f"{source}: LDIF line {number}: bad base64 in {name}") from None
        else:
            data = value.strip().encode("utf-8")
        entry.setdefault(name.strip().lower(), []).append(data)
    if entry:
        yield entry
