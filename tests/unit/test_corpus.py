"""Real chip files and PKI data that other projects publish for testing (gmrtd, pymrtd with
ETSI's ePassport prototype files, the BSI TR-03105-5 reference set, the German and Dutch
master lists), driven by one table: ``tests/corpus/MANIFEST``. Every file either parses or
raises the typed error its publisher's own test expects; every SOD and EF.CardSecurity gets
the signature (and, where its CSCA is known, chain) verdict the publisher asserts; every data
group that belongs to a SOD of the corpus is proven by it. Nothing may escape as an untyped
exception. Attribution and licences: ``tests/corpus/README.md``."""

from __future__ import annotations

import datetime
import hashlib
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from asn1crypto import cms, x509

from emrtd import errors, lds, passiveauth, pubkey
from emrtd.lds import sod as sod_parser
from emrtd.truststore import TrustStore

from ..conftest import SHARED, shared_file

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
NOW = datetime.datetime(2026, 11, 24, tzinfo=datetime.UTC)
LDS_KINDS = set(lds.PARSERS) | {f"dg{n}" for n in range(1, 17)} | {"dir"}


class Entry(NamedTuple):
    path: str
    state: str
    kind: str
    expect: str
    source: str

    @property
    def raw(self) -> bytes:
        if self.path.startswith("shared:"):
            return shared_file(SHARED / "data" / self.path.removeprefix("shared:"))
        return (CORPUS / self.path).read_bytes()

    @property
    def origin(self) -> str:
        """Files of one document share state and source folder (gmrtd/, shared: ...)."""
        return self.path.split("/")[0]


def _manifest() -> list[Entry]:
    entries = []
    for line in (CORPUS / "MANIFEST").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            path, state, kind, expect, source = line.split(None, 4)
            entries.append(Entry(path, state, kind, expect, source))
    return entries


ENTRIES = _manifest()
IDS = [e.path.removeprefix("shared:") for e in ENTRIES]


def _parse(entry: Entry) -> Any:
    """The emrtd parser for the entry's kind; only emrtd errors may come out."""
    raw = entry.raw
    if entry.kind in LDS_KINDS:
        return lds.parse_file(entry.kind, raw)
    if entry.kind == "csca":
        return TrustStore.from_der([raw])
    if entry.kind == "masterlist":  # anchored in its own state's CSCA (the signer's root)
        roots = [e.raw for e in ENTRIES if e.kind == "csca" and e.state == entry.state]
        return TrustStore.from_der(roots, [raw])
    if entry.kind == "spki":
        return pubkey.parse_spki(raw)
    raise AssertionError(f"unknown kind {entry.kind!r} in the manifest")


@cache
def _trust() -> TrustStore:
    """The DE and NL master lists plus every CSCA of the corpus."""
    cscas = [e.raw for e in ENTRIES if e.kind == "csca"]
    lists = [e.raw for e in ENTRIES if e.kind == "masterlist"]
    return TrustStore.from_der(cscas, lists)


def _signed_at(signed: cms.SignedData, signer: x509.Certificate) -> datetime.datetime:
    """The signing time attribute, else a day into the DSC's validity (a document is signed
    while its DSC is fresh)."""
    for attribute in signed["signer_infos"][0]["signed_attrs"]:
        if attribute["type"].native == "signing_time":
            value: datetime.datetime = attribute["values"][0].native
            return value
    start: datetime.datetime = signer["tbs_certificate"]["validity"]["not_before"].native
    return start + datetime.timedelta(days=1)


def test_corpus_is_large_and_varied() -> None:
    """The corpus holds at least 60 real files from at least 8 issuing states."""
    states = {e.state for e in ENTRIES if len(e.state) == 2 and e.state != "XX"}
    assert len(ENTRIES) >= 60, len(ENTRIES)
    assert len(states) >= 8, sorted(states)
    assert len({e.path for e in ENTRIES}) == len(ENTRIES), "a file is listed twice"


def test_every_corpus_file_is_listed() -> None:
    """No file sits in tests/corpus without a line in the manifest."""
    listed = {e.path for e in ENTRIES}
    present = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.bin")}
    assert present - listed == set()


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_corpus_file(entry: Entry) -> None:
    """The file gets the outcome its publisher's test expects, with no untyped exception."""
    if entry.expect.startswith("error:"):
        expected = getattr(errors, entry.expect.removeprefix("error:"))
        with pytest.raises(expected):
            _parse(entry)
        return
    parsed = _parse(entry)
    if entry.kind == "masterlist" or entry.kind == "csca":
        assert len(parsed) >= 1
    if entry.expect in ("signed", "trusted", "bad-signature"):
        _check_signed(entry, parsed)
    elif entry.expect in ("hash-ok", "not-in-sod"):
        _check_hash(entry)
    else:
        assert entry.expect == "parses", entry.expect


def _check_signed(entry: Entry, parsed: Any) -> None:
    raw = entry.raw
    if entry.kind == "sod":
        signer = parsed.certificates[0]
        result: Any = passiveauth.verify({"sod": raw}, _trust(), _signed_at(parsed.signed_data, signer))
        signature_ok, chain_ok = result.sod_signature_valid, result.document_certificate_valid
        if entry.expect != "bad-signature":
            assert parsed.hashes, "no data group hashes"
    else:
        signer = parsed.signed_data["certificates"][0].chosen
        result = passiveauth.verify_card_security(raw, _trust(), _signed_at(parsed.signed_data, signer))
        signature_ok, chain_ok = result.signature_valid, result.certificate_valid
    errors_ = list(result.errors)
    if entry.expect == "bad-signature":
        assert not signature_ok, errors_
        return
    assert signature_ok, errors_
    assert chain_ok is (entry.expect == "trusted"), errors_


def _check_hash(entry: Entry) -> None:
    sods = [e for e in ENTRIES if e.kind == "sod" and e.state == entry.state and e.origin == entry.origin]
    assert len(sods) == 1, f"no single SOD for {entry.path}"
    raw_sod = sods[0].raw
    parsed = sod_parser.parse(raw_sod)
    number = int(entry.kind[2:])
    result = passiveauth.verify({"sod": raw_sod, entry.kind: entry.raw}, _trust(), NOW)
    if entry.expect == "hash-ok":
        assert hashlib.new(parsed.hash_algorithm, entry.raw).digest() == parsed.hashes[number]
        assert number in result.data_groups_with_valid_hash, result.errors
    else:
        assert number not in parsed.hashes
        assert any(f"DG{number}" in e for e in result.errors), result.errors


@pytest.mark.parametrize(
    "entry",
    [e for e in ENTRIES if e.kind in LDS_KINDS],
    ids=[i for e, i in zip(ENTRIES, IDS, strict=True) if e.kind in LDS_KINDS],
)
def test_damaged_corpus_files_raise_only_typed_errors(entry: Entry) -> None:
    """Every real file cut short or with a byte flipped (as a damaged chip or a bad read
    gives) parses or raises an emrtd error, never anything else; PA over a damaged SOD
    reports instead of raising."""
    raw = entry.raw
    cuts = {len(raw) * k // 16 for k in range(16)}
    flips = {len(raw) * k // 23 for k in range(23)}
    damaged = [raw[:cut] for cut in cuts] + [
        raw[:at] + bytes([raw[at] ^ 0xA5]) + raw[at + 1 :] for at in flips if at < len(raw)
    ]
    for data in damaged:
        try:
            lds.parse_file(entry.kind, data)
        except errors.EmrtdError:
            pass
        if entry.kind == "sod":
            passiveauth.verify({"sod": data}, _trust(), NOW)  # findings, never an exception
