"""EF.SOD (9303-10 §4.6.2): tag 77 around a CMS SignedData whose encapsulated content
(eContentType 2.23.136.1.1.1) is the LDSSecurityObject with the data group hashes.

Parsing only: the signature and certificate checks are Passive Authentication's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asn1crypto import algos, cms, core

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
class SOD(signeddata.SignedFile):
    """A parsed EF.SOD. ``econtent`` is the raw DER of the LDSSecurityObject as signed."""

    raw: bytes = field(repr=False)
    signed: signeddata.Signed
    hash_algorithm: str  # asn1crypto name: "sha256"
    hashes: dict[int, bytes]
    lds_version: str | None
    #: Oddities accepted while parsing (e.g. eContentType id-data), for the result's errors.
    notes: tuple[str, ...] = ()

    @property
    def signer_infos(self) -> tuple[cms.SignerInfo, ...]:
        return tuple(self.signed_data["signer_infos"])

    @property
    def hash_algorithm_name(self) -> str:
        """As the DocVal result writes it: ``SHA-256``."""
        return HASH_NAMES.get(self.hash_algorithm, self.hash_algorithm.upper())


def _data_group_hashes(contents: bytes) -> dict[int, bytes]:
    """The SEQUENCE OF DataGroupHash, walked with asn1crypto's parser: building an object
    per field costs more than checking the rest of the SOD."""
    hashes: dict[int, bytes] = {}
    for item in derparts.children(contents):
        fields = derparts.children(item.contents) if item.kind == derparts.SEQUENCE else []
        if len(fields) != 2 or (fields[0].kind, fields[1].kind) != (derparts.INTEGER, derparts.OCTET_STRING):
            raise LDSError("a DataGroupHash is not what its ASN.1 definition says")
        number_part, value = fields
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
        signed = signeddata.parse_signed(top.value, OID_LDS_SECURITY_OBJECT, "EF.SOD", also=(OID_DATA,))
        notes: tuple[str, ...] = ()
        if signed.content_type == OID_DATA:
            notes = ("sod: eContentType is id-data, not the LDS security object type (accepted)",)
        lso = LDSSecurityObject.load(signed.econtent, strict=True)
        hashes = _data_group_hashes(lso["data_group_hash_values"].contents)
        version_info = lso["lds_version_info"]
        lds_version = None if isinstance(version_info, core.Void) else (version_info["lds_version"].native)
        return SOD(
            raw,
            signed,
            signatures.digest_name(lso["hash_algorithm"].dump()),
            hashes,
            lds_version,
            notes,
        )
