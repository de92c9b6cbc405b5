"""What a test passport is (:class:`PassportSpec`: MRZ, access protocols, CA and AA keys,
face format, signer) and the fault modes a spec can carry.

Fault modes (for negative tests, each a string in ``PassportSpec.faults``):

``clone``               the chip holds other CA/CAM private keys than DG14/CardSecurity publish
``wrong-aa-key``        the chip signs INTERNAL AUTHENTICATE with a key other than DG15's
``tampered-dg``         DG1 (the holder's name) changed after the SOD was signed
``unknown-dsc``         the SOD is signed by a DSC of a CSCA outside the trust store
``expired-dsc``         the DSC expired before the documents were signed
``revoked-dsc``         the DSC is on the CSCA's CRL
``wrong-issuing-state`` DG1's issuing state is not the CSCA's country
``no-dg14``             no DG14 (so no Chip Authentication)
``no-ca-key``           DG14 is there (with its other SecurityInfos) but holds no CA key
``no-dg15``             no DG15 (so no Active Authentication)
``no-sfi``              the chip refuses READ BINARY by short file identifier (6A82)
``empty-sod``           EF.SOD is there but empty (READ BINARY answers 6B00 at offset 0)
``empty-dg2``           DG2 is there but empty (the SOD holds the hash of the real face)
``std-params``          CA and PACE-CAM public keys name their domain by a BSI standardized
                        domain parameter id (INTEGER) instead of spelling it out
``id-data-sod``         the SOD's eContentType is id-data, not id-icao-ldsSecurityObject
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .. import curves, dhgroups, ecmath, pace
from ..errors import EmrtdError
from ..lds.securityinfos import ID_CA, ChipAuthenticationInfo, PACEInfo
from . import pki

FAULTS = (
    "clone",
    "wrong-aa-key",
    "tampered-dg",
    "unknown-dsc",
    "expired-dsc",
    "revoked-dsc",
    "wrong-issuing-state",
    "no-dg14",
    "no-ca-key",
    "no-dg15",
    "no-sfi",
    "empty-sod",
    "empty-dg2",
    "std-params",
    "id-data-sod",
)


@dataclass(frozen=True)
class PassportSpec:
    """What a test passport is. Protocol strings:

    * ``pace``: ``"<DH|ECDH>-<GM|IM|CAM>-<3DES|AES>-<128|192|256>:<parameter id>"``;
    * ``ca``: ``"<DH|ECDH>-<3DES|AES>-<bits>:<curve or DH group name>[#key id]"``;
    * ``aa``: ``"RSA-<bits>-<SHA1|SHA256>"`` or ``"ECDSA-<curve>-<SHA256|...>"``.
    """

    name: str
    mrz_lines: tuple[str, ...] = (
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "UT12345675UTO9003152F3404159<<<<<<<<<<<<<<04",
    )
    can: str = "123456"
    bac: bool = True
    pace: tuple[str, ...] = ("ECDH-GM-AES-128:12",)
    ca: str | None = "ECDH-AES-128:brainpoolP256r1"
    aa: str | None = "RSA-1024-SHA1"
    image: str = "jpeg"
    signer: str = "ec"  # which trusted DSC signs the SOD: "ec" or "rsa"
    sod_hash: str = "sha256"
    extended_length: bool = True
    faults: frozenset[str] = frozenset()

    def with_faults(self, *faults: str) -> PassportSpec:
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise EmrtdError(f"unknown fault {', '.join(sorted(unknown))}; known: {', '.join(FAULTS)}")
        return replace(
            self, name=f"{self.name}+{'+'.join(sorted(faults))}", faults=self.faults | frozenset(faults)
        )


_KEY_LENGTHS = {"128": 16, "192": 24, "256": 32}


def parse_pace(text: str) -> PACEInfo:
    try:
        protocol, param = text.split(":")
        agreement, mapping, cipher, bits = protocol.split("-")
        length = _KEY_LENGTHS[bits]
        return PACEInfo(
            pace.protocol_oid(agreement, mapping, cipher, length),
            2,
            int(param),
            agreement,  # type: ignore[arg-type]
            mapping,  # type: ignore[arg-type]
            cipher,  # type: ignore[arg-type]
            length,
        )
    except (ValueError, KeyError):
        raise EmrtdError(f"bad PACE spec {text!r}") from None


def ca_key(text: str) -> tuple[ChipAuthenticationInfo, pace.Domain, int | None]:
    try:
        protocol, rest = text.split(":")
        group_name, _, key_id_text = rest.partition("#")
        key_id = int(key_id_text) if key_id_text else None
        parts = protocol.split("-")
        agreement, cipher = parts[0], parts[1]
        length = _KEY_LENGTHS[parts[2]] if cipher == "AES" else 16
    except (ValueError, KeyError, IndexError):
        raise EmrtdError(f"bad CA spec {text!r}") from None
    suffix = {("DH", "3DES"): "1.1", ("ECDH", "3DES"): "2.1"}.get(
        (agreement, cipher)
    ) or f"{'1' if agreement == 'DH' else '2'}.{ {16: 2, 24: 3, 32: 4}[length] }"
    info = ChipAuthenticationInfo(f"{ID_CA}.{suffix}", 1, key_id, agreement, cipher, length)  # type: ignore[arg-type]
    domain: pace.Domain
    if agreement == "ECDH":
        curve = curves.by_name(group_name)
        domain = pace.ECDomain(curve, ecmath.generator(curve))
    else:
        group = next((g for g in dhgroups.GROUPS if g.name == group_name), None)
        if group is None:
            raise EmrtdError(f"unknown DH group {group_name!r}")
        domain = pace.DHDomain(group, group.g)
    return info, domain, key_id


def aa_key(
    text: str, seed: pki.Seed, label: str
) -> tuple[rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, str]:
    kind, size, hash_name = text.split("-")
    hash_name = hash_name.lower()
    if kind == "RSA":
        return pki.rsa_key(seed, label, int(size)), hash_name
    return pki.ec_key(seed, label, {"P256": "secp256r1", "P384": "secp384r1"}.get(size, size)), hash_name
