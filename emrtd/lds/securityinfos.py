"""SecurityInfos (ICAO 9303-11 §9.2): the contents of EF.CardAccess, DG14 and EF.CardSecurity.

``SecurityInfos ::= SET OF SecurityInfo``, each ``SEQUENCE { protocol OID, requiredData ANY,
optionalData ANY OPTIONAL }``, read by protocol OID into the typed infos below. Unknown
protocols are kept (as :class:`UnknownInfo`), as 9303 requires of readers.

The SET and its SEQUENCEs are walked with :mod:`emrtd.derparts` (asn1crypto's element reader):
the server parses a DG14 in every session, and asn1crypto's object model cost more than the
rest of the parse. OIDs are still decoded by asn1crypto (remembered by encoding: protocol
identifiers, the same in every passport).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .. import derparts, pubkey
from ..errors import LDSError

BSI_DE = "0.4.0.127.0.7"
ID_PK = BSI_DE + ".2.2.1"
ID_TA = BSI_DE + ".2.2.2"
ID_CA = BSI_DE + ".2.2.3"
ID_PACE = BSI_DE + ".2.2.4"
ID_AA = "2.23.136.1.1.5"

KeyAgreement = Literal["DH", "ECDH"]
Mapping = Literal["GM", "IM", "CAM"]
Cipher = Literal["3DES", "AES"]

_CIPHERS: dict[str, tuple[Cipher, int]] = {
    "1": ("3DES", 16), "2": ("AES", 16), "3": ("AES", 24), "4": ("AES", 32),
}
_PACE_MAPPINGS: dict[str, tuple[KeyAgreement, Mapping]] = {
    "1": ("DH", "GM"), "2": ("ECDH", "GM"), "3": ("DH", "IM"), "4": ("ECDH", "IM"),
    "6": ("ECDH", "CAM"),
}
_CA_AGREEMENTS: dict[str, KeyAgreement] = {"1": "DH", "2": "ECDH"}


@dataclass(frozen=True, slots=True)
class PACEInfo:
    protocol: str
    version: int
    parameter_id: int | None
    key_agreement: KeyAgreement
    mapping: Mapping
    cipher: Cipher
    key_length: int


@dataclass(frozen=True, slots=True)
class PACEDomainParameterInfo:
    protocol: str
    domain_parameter: bytes
    parameter_id: int | None


@dataclass(frozen=True, slots=True)
class ChipAuthenticationInfo:
    protocol: str
    version: int
    key_id: int | None
    key_agreement: KeyAgreement
    cipher: Cipher
    key_length: int


@dataclass(frozen=True, slots=True)
class ChipAuthenticationPublicKeyInfo:
    protocol: str
    key_agreement: KeyAgreement
    public_key: pubkey.PublicKey
    spki: bytes = field(repr=False)
    key_id: int | None


@dataclass(frozen=True, slots=True)
class ActiveAuthenticationInfo:
    version: int
    signature_algorithm: str


@dataclass(frozen=True, slots=True)
class TerminalAuthenticationInfo:
    protocol: str
    version: int


@dataclass(frozen=True, slots=True)
class UnknownInfo:
    protocol: str
    raw: bytes = field(repr=False)


SecurityInfo = (
    PACEInfo
    | PACEDomainParameterInfo
    | ChipAuthenticationInfo
    | ChipAuthenticationPublicKeyInfo
    | ActiveAuthenticationInfo
    | TerminalAuthenticationInfo
    | UnknownInfo
)


@dataclass(frozen=True, slots=True)
class SecurityInfos:
    infos: tuple[SecurityInfo, ...]

    def of_type(self, kind: type) -> list:  # type: ignore[type-arg]
        return [info for info in self.infos if isinstance(info, kind)]

    @property
    def pace(self) -> list[PACEInfo]:
        return self.of_type(PACEInfo)

    @property
    def chip_authentication(self) -> list[ChipAuthenticationInfo]:
        return self.of_type(ChipAuthenticationInfo)

    @property
    def chip_authentication_keys(self) -> list[ChipAuthenticationPublicKeyInfo]:
        return self.of_type(ChipAuthenticationPublicKeyInfo)

    @property
    def active_authentication(self) -> ActiveAuthenticationInfo | None:
        found = self.of_type(ActiveAuthenticationInfo)
        return found[0] if found else None


def _int(part: derparts.Part) -> int:
    return derparts.integer(part, "an INTEGER field")


def _optional_int(part: derparts.Part | None) -> int | None:
    return None if part is None else _int(part)


#: ChipAuthenticationInfo versions: 1 (9303-11 §9.2.5, DG14), 2 and 3 (TR-03110 CA2/CA3, as in
#: German EF.CardSecurity).
CA_VERSIONS = frozenset({1, 2, 3})


def _suffix(oid: str, prefix: str) -> list[str]:
    return oid[len(prefix) + 1 :].split(".") if oid.startswith(prefix + ".") else []


def _interpret(item: derparts.Part) -> SecurityInfo:
    if item.kind != derparts.SEQUENCE:
        raise LDSError("a SecurityInfo is not a SEQUENCE")
    fields = derparts.children(item.contents)
    if not 2 <= len(fields) <= 3:
        raise LDSError(f"a SecurityInfo has {len(fields)} fields, not 2 or 3")
    oid = derparts.oid(fields[0], "the protocol")
    required = fields[1]
    optional = fields[2] if len(fields) == 3 else None
    parts = _suffix(oid, ID_PACE)
    if len(parts) == 2 and parts[0] in _PACE_MAPPINGS and parts[1] in _CIPHERS:
        agreement, mapping = _PACE_MAPPINGS[parts[0]]
        cipher, length = _CIPHERS[parts[1]]
        return PACEInfo(oid, _int(required), _optional_int(optional), agreement, mapping,
                        cipher, length)
    if len(parts) == 1 and parts[0] in _PACE_MAPPINGS:
        return PACEDomainParameterInfo(oid, required.der, _optional_int(optional))
    parts = _suffix(oid, ID_CA)
    if len(parts) == 2 and parts[0] in _CA_AGREEMENTS and parts[1] in _CIPHERS:
        cipher, length = _CIPHERS[parts[1]]
        version = _int(required)
        if version not in CA_VERSIONS:  # the version fixes the protocol: guessing is unsafe
            raise LDSError(f"ChipAuthenticationInfo version {version} is not one of 1, 2, 3")
        return ChipAuthenticationInfo(oid, version, _optional_int(optional),
                                      _CA_AGREEMENTS[parts[0]], cipher, length)
    parts = _suffix(oid, ID_PK)
    if len(parts) == 1 and parts[0] in _CA_AGREEMENTS:
        spki = required.der
        return ChipAuthenticationPublicKeyInfo(oid, _CA_AGREEMENTS[parts[0]],
                                               pubkey.parse_spki(spki), spki,
                                               _optional_int(optional))
    if oid == ID_AA:
        algorithm = derparts.oid(optional, "the signature algorithm") if optional else ""
        return ActiveAuthenticationInfo(_int(required), algorithm)
    if oid.startswith(ID_TA):
        return TerminalAuthenticationInfo(oid, _int(required))
    return UnknownInfo(oid, item.der)


def parse_security_infos(der: bytes) -> SecurityInfos:
    """Parse a DER SET OF SecurityInfo; raises :class:`LDSError` on anything malformed."""
    try:
        outer = derparts.single(bytes(der), derparts.SET, "SecurityInfos")
        infos = tuple(_interpret(item) for item in derparts.children(outer.contents))
    except LDSError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise LDSError(f"malformed SecurityInfos: {exc}") from None
    return SecurityInfos(infos)
