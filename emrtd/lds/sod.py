"""EF.SOD (9303-10 §4.6.2): tag 77 around a CMS SignedData whose encapsulated content
(eContentType 2.23.136.1.1.1) is the LDSSecurityObject with the data group hashes.

Parsing only: the signature and certificate checks are Passive Authentication's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asn1crypto import algos, cms, core, x509

from .. import derparts, signatures, signeddata
from ..errors import LDSError
from .base import outer, parsing

OID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
OID_DATA = "1.2.840.113549.1.7.1"  # id-data: some issuers' SODs say this instead

HASH_NAMES = {
    "sha1": "SHA-1",
    "sha224": "SHA-224",
    "sha256": "SHA-256",
    "sha384": "SHA-384",
    "sha512": "SHA-512",
}


class DataGroupHash(core.Sequence):
    _fields = [
        ("data_group_number", core.Integer),
        ("data_group_hash_value", core.OctetString),
    ]


class DataGroupHashes(core.SequenceOf):
    _child_spec = DataGroupHash


class LDSVersionInfo(core.Sequence):
    _fields = [("lds_version", core.PrintableString), ("unicode_version", core.PrintableString)]


class LDSSecurityObject(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashes),
        ("lds_version_info", LDSVersionInfo, {"optional": True}),
    ]


@dataclass(frozen=True, slots=True)
class SOD:
    """A parsed EF.SOD. ``econtent`` is the raw DER of the LDSSecurityObject as signed."""

    raw: bytes = field(repr=False)
    signed_data: cms.SignedData
    econtent: bytes = field(repr=False)
    hash_algorithm: str  # asn1crypto name: "sha256"
    hashes: dict[int, bytes]
    certificates: tuple[x509.Certificate, ...]
    signer_infos: tuple[cms.SignerInfo, ...]
    lds_version: str | None
    #: Oddities accepted while parsing (e.g. eContentType id-data), for the result's errors.
    notes: tuple[str, ...] = ()

    @property
    def hash_algorithm_name(self) -> str:
        """As the DocVal result writes it: ``SHA-256``."""
        return HASH_NAMES.get(self.hash_algorithm, self.hash_algorithm.upper())


def signed_content(
    der: bytes, content_type: str, what: str, *, also: tuple[str, ...] = ()
) -> tuple[cms.SignedData, bytes]:
    """The SignedData and raw eContent of a CMS ContentInfo whose eContentType must be
    ``content_type`` (EF.SOD, EF.CardSecurity, master lists) or one of ``also``. Call inside
    ``parsing()``."""
    info = cms.ContentInfo.load(der, strict=True)
    if info["content_type"].native != "signed_data":
        raise LDSError(f"{what} content is not SignedData")
    signed = info["content"]
    encap = signed["encap_content_info"]
    if encap["content_type"].dotted not in (content_type, *also):
        raise LDSError(f"{what} eContentType is {encap['content_type'].dotted}, not {content_type}")
    content = encap["content"]
    if content is None or isinstance(content, core.Void):
        raise LDSError(f"{what} has no encapsulated content")
    if not isinstance(content, (core.OctetString, core.ParsableOctetString)):
        raise LDSError("eContent is not an OCTET STRING")
    return signed, bytes(content.contents)


def _data_group_hashes(contents: bytes) -> dict[int, bytes]:
    """The SEQUENCE OF DataGroupHash, walked with asn1crypto's parser: building an object
    per field costs more than checking the rest of the SOD."""
    hashes: dict[int, bytes] = {}
    items = derparts.children(contents)
    for item in derparts.expect(items, *[derparts.SEQUENCE] * len(items), what="a DataGroupHash"):
        number_part, value = derparts.expect(
            derparts.children(item.contents), derparts.INTEGER, derparts.OCTET_STRING, what="a DataGroupHash"
        )
        number_der = number_part.contents
        if not number_der or (len(number_der) > 1 and number_der[0] in (0, 0xFF)):
            raise LDSError("a data group number is not a DER INTEGER of 1 to 16")
        number = int.from_bytes(number_der, "big", signed=True)
        if not 1 <= number <= 16 or number in hashes:
            raise LDSError(f"invalid or repeated data group number {number}")
        hashes[number] = value.contents
    return hashes


def parse(raw: bytes) -> SOD:
    top = outer("sod", raw, 0x77)
    with parsing("sod"):
        # Lenient: a few issuers wrote id-data as eContentType; the content must still be an
        # LDSSecurityObject (parsed strictly below) and the signature still covers it.
        signed, econtent = signed_content(top.value, OID_LDS_SECURITY_OBJECT, "EF.SOD", also=(OID_DATA,))
        notes: tuple[str, ...] = ()
        if signed["encap_content_info"]["content_type"].dotted == OID_DATA:
            notes = ("sod: eContentType is id-data, not the LDS security object type (accepted)",)
        lso = LDSSecurityObject.load(econtent, strict=True)
        hashes = _data_group_hashes(lso["data_group_hash_values"].contents)
        version_info = lso["lds_version_info"]
        lds_version = None if isinstance(version_info, core.Void) else (version_info["lds_version"].native)
        certificates = signeddata.certificates(signed)
        return SOD(
            raw,
            signed,
            econtent,
            signatures.digest_name(lso["hash_algorithm"].dump()),
            hashes,
            certificates,
            tuple(signed["signer_infos"]),
            lds_version,
            notes,
        )
