"""Build test passports: LDS files, EF.CardAccess/CardSecurity, SOD, and the chip's keys.

A :class:`PassportSpec` says what the document is (MRZ, access protocols, CA and AA keys,
face image format) and which faults it carries; :func:`build` turns it, with a
:class:`TestPKI`, into the files and :class:`~emrtd.sim.auth.AuthKeys` of a virtual chip.
Everything is derived from the PKI's seed and the spec's name, so a build is reproducible.

Fault modes (for negative tests, each a string in ``PassportSpec.faults``):

``clone``               the chip holds other CA/CAM private keys than DG14/CardSecurity publish
``wrong-aa-key``        the chip signs INTERNAL AUTHENTICATE with a key other than DG15's
``tampered-dg``         DG1 (the holder's name) changed after the SOD was signed
``unknown-dsc``         the SOD is signed by a DSC of a CSCA outside the trust store
``expired-dsc``         the DSC expired before the documents were signed
``revoked-dsc``         the DSC is on the CSCA's CRL
``wrong-issuing-state`` DG1's issuing state is not the CSCA's country
``no-dg14``             no DG14 (so no Chip Authentication)
``no-dg15``             no DG15 (so no Active Authentication)
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from importlib import resources
from typing import Any

from asn1crypto import core, keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .. import activeauth, curves, dhgroups, ecmath, mrz, pace, tlv
from ..errors import EmrtdError
from ..lds import dg2 as dg2_parser
from ..lds.securityinfos import ID_AA, ID_CA, ID_PK, ChipAuthenticationInfo, PACEInfo
from ..lds.sod import LDSSecurityObject
from ..reader import DG_TAGS
from . import pki
from .auth import AuthKeys, StaticKey

FAULTS = (
    "clone",
    "wrong-aa-key",
    "tampered-dg",
    "unknown-dsc",
    "expired-dsc",
    "revoked-dsc",
    "wrong-issuing-state",
    "no-dg14",
    "no-dg15",
)


# -- the test PKI -------------------------------------------------------------------------


@dataclass(frozen=True)
class TestPKI:
    """Trusted CSCAs with their DSCs and CRLs, a master list, and an untrusted CSCA."""

    seed: pki.Seed = field(repr=False)
    country: str  # ISO 3166 alpha-2 of the CSCAs ("UT", Utopia, ICAO's specimen state)
    csca_ec: pki.Authority
    csca_rsa: pki.Authority
    dsc_ec: pki.Authority
    dsc_rsa: pki.Authority
    dsc_expired: pki.Authority
    dsc_revoked: pki.Authority
    rogue_csca: pki.Authority
    rogue_dsc: pki.Authority
    ml_signer: pki.Authority
    crls: tuple[bytes, ...]
    master_list: bytes

    def trust_files(self) -> dict[str, bytes]:
        """The trust store as files: CSCA certificates (PEM), CRLs (DER), the master list."""
        return {
            "csca-ut-ecdsa.pem": pki.pem("CERTIFICATE", self.csca_ec.der),
            "csca-ut-rsa.pem": pki.pem("CERTIFICATE", self.csca_rsa.der),
            "csca-ut-ecdsa.crl": self.crls[0],
            "csca-ut-rsa.crl": self.crls[1],
            "masterlist-ut.ml": self.master_list,
        }


DEFAULT_SEED = "docval-test-pki"


def test_pki(seed: str = DEFAULT_SEED) -> TestPKI:
    """The test PKI for a seed (cached: seeded RSA key generation takes a few seconds)."""
    return _test_pki(seed)


@functools.lru_cache(maxsize=4)
def _test_pki(seed: str) -> TestPKI:
    s = pki.Seed(seed)
    utc = pki.utc
    ca_years, ds_years = (utc(2024), utc(2039)), (utc(2025), utc(2036))

    def issue(
        common_name: str,
        key: pki.PrivateKey,
        issuer: pki.Authority | None,
        serial: int,
        valid: tuple[datetime, datetime],
        **options: Any,
    ) -> pki.Authority:
        return pki.certificate(
            subject=pki.name("UT", common_name),
            key=key,
            issuer=issuer,
            serial=serial,
            not_before=valid[0],
            not_after=valid[1],
            ca=issuer is None,
            **options,
        )

    ec_key = functools.partial(pki.ec_key, s)
    csca_ec = issue(
        "CSCA Utopia ECDSA",
        ec_key("csca-ec", "brainpoolP384r1"),
        None,
        0x1001,
        ca_years,
        explicit=True,
        hash_name="sha384",
    )
    csca_rsa = issue("CSCA Utopia RSA", pki.rsa_key(s, "csca-rsa", 3072), None, 0x1002, ca_years)
    dsc_ec = issue("DS Utopia ECDSA 1", ec_key("dsc-ec", "brainpoolP256r1"), csca_ec, 0x2001, ds_years)
    dsc_rsa = issue("DS Utopia RSA 1", pki.rsa_key(s, "dsc-rsa", 2048), csca_rsa, 0x2002, ds_years, pss=True)
    dsc_expired = issue(
        "DS Utopia ECDSA expired",
        ec_key("dsc-expired", "secp256r1"),
        csca_ec,
        0x2003,
        (utc(2024), utc(2024, 12, 31)),
    )
    dsc_revoked = issue(
        "DS Utopia ECDSA revoked", ec_key("dsc-revoked", "secp256r1"), csca_ec, 0x2004, ds_years
    )
    # Same names and serials as the trusted pair, other keys: only a key check tells them apart.
    rogue_csca = issue("CSCA Utopia ECDSA", ec_key("rogue", "secp256r1"), None, 0x1001, ca_years)
    rogue_dsc = issue("DS Utopia ECDSA 1", ec_key("rogue-dsc", "secp256r1"), rogue_csca, 0x2001, ds_years)
    ml_signer = issue(
        "Master List Signer Utopia",
        ec_key("ml-signer", "brainpoolP256r1"),
        csca_ec,
        0x3001,
        ds_years,
        extended_key_usage=pki.OID_ML_SIGNER_EKU,
    )
    crls = (
        pki.revocation_list(csca_ec, [(0x2004, utc(2025, 6, 1))], utc(2026, 1, 1), utc(2036, 1, 1)).dump(),
        pki.revocation_list(csca_rsa, [], utc(2026, 1, 1), utc(2036, 1, 1)).dump(),
    )
    master_list = pki.master_list(
        ml_signer, [csca_ec.certificate, csca_rsa.certificate], signer_chain=(csca_ec.certificate,)
    )
    return TestPKI(
        s,
        "UT",
        csca_ec,
        csca_rsa,
        dsc_ec,
        dsc_rsa,
        dsc_expired,
        dsc_revoked,
        rogue_csca,
        rogue_dsc,
        ml_signer,
        crls,
        master_list,
    )


# -- encoders -----------------------------------------------------------------------------


def _seq(*items: bytes) -> bytes:
    return tlv.encode(0x30, b"".join(items))


def _oid(dotted: str) -> bytes:
    return bytes(core.ObjectIdentifier(dotted).dump())


def _int(value: int) -> bytes:
    return bytes(core.Integer(value).dump())


def security_infos(items: list[bytes]) -> bytes:
    """DER SET OF SecurityInfo (elements sorted, as DER requires)."""
    return tlv.encode(0x31, b"".join(sorted(items)))


def pace_info(info: PACEInfo) -> bytes:
    extra = _int(info.parameter_id) if info.parameter_id is not None else b""
    return _seq(_oid(info.protocol), _int(info.version), extra)


def ca_info(info: ChipAuthenticationInfo) -> bytes:
    extra = _int(info.key_id) if info.key_id is not None else b""
    return _seq(_oid(info.protocol), _int(info.version), extra)


def ca_public_key_info(key: StaticKey, *, explicit: bool = False) -> bytes:
    """ChipAuthenticationPublicKeyInfo: id-PK-DH/ECDH, the SubjectPublicKeyInfo, key id."""
    public = key.domain.public_key(key.private)
    if isinstance(key.domain, pace.ECDomain):
        curve = key.domain.curve
        params = (
            pki.explicit_parameters(curve)
            if explicit or curve.cryptography_name is None
            else keys.ECDomainParameters(name="named", value=_named_curve_oid(curve))
        )
        spki = keys.PublicKeyInfo(
            {"algorithm": {"algorithm": "ec", "parameters": params}, "public_key": public}
        )
        oid = ID_PK + ".2"
    else:
        group = key.domain.group
        spki = keys.PublicKeyInfo(
            {
                "algorithm": {"algorithm": "dh", "parameters": {"p": group.p, "g": group.g, "q": group.q}},
                "public_key": core.Integer(int.from_bytes(public, "big")),
            }
        )
        oid = ID_PK + ".1"
    extra = _int(key.key_id) if key.key_id is not None else b""
    return _seq(_oid(oid), spki.dump(), extra)


def _named_curve_oid(curve: curves.Curve) -> str:
    names = {
        "secp256r1": "1.2.840.10045.3.1.7",
        "secp384r1": "1.3.132.0.34",
        "secp521r1": "1.3.132.0.35",
        "secp224r1": "1.3.132.0.33",
        "brainpoolP256r1": "1.3.36.3.3.2.8.1.1.7",
        "brainpoolP384r1": "1.3.36.3.3.2.8.1.1.11",
        "brainpoolP512r1": "1.3.36.3.3.2.8.1.1.13",
    }
    return names[curve.name]


def aa_info(signature_algorithm: str) -> bytes:
    return _seq(_oid(ID_AA), _int(1), _oid(signature_algorithm))


def encode_atr_info(max_command: int, max_response: int) -> bytes:
    """EF.ATR/INFO with the extended length information DO 7F66 (ISO/IEC 7816-4 §12.7.1):
    the largest command and response the chip accepts."""

    def length(value: int) -> bytes:
        return tlv.encode(0x02, value.to_bytes(max(2, (value.bit_length() + 7) // 8), "big"))

    return tlv.encode(0x7F66, length(max_command) + length(max_response))


def encode_com(tags: list[int]) -> bytes:
    return tlv.encode(
        0x60, tlv.encode(0x5F01, b"0107") + tlv.encode(0x5F36, b"040000") + tlv.encode(0x5C, bytes(tags))
    )


def encode_dg1(mrz_text: str) -> bytes:
    return tlv.encode(0x61, tlv.encode(0x5F1F, mrz_text.encode("ascii")))


def encode_dg2(image: bytes, image_type: int, width: int, height: int) -> bytes:
    """DG2 with one ISO/IEC 19794-5:2005 facial record (9303-10 §4.7.2)."""
    info = (
        bytes([1, image_type])
        + width.to_bytes(2, "big")
        + height.to_bytes(2, "big")
        + bytes([1, 2, 0, 0, 0, 0])
    )
    facial = bytes(2) + bytes([0, 0, 0]) + bytes(3) + bytes(2) + bytes(3) + bytes(3) + info + image
    record = (len(facial) + 4).to_bytes(4, "big") + facial
    block = b"FAC\x00010\x00" + (14 + len(record)).to_bytes(4, "big") + (1).to_bytes(2, "big") + record
    header = tlv.encode(
        0xA1,
        tlv.encode(0x80, b"\x01\x01")
        + tlv.encode(0x81, b"\x02")
        + tlv.encode(0x87, b"\x01\x01")
        + tlv.encode(0x88, b"\x00\x08"),
    )
    group = tlv.encode(0x02, b"\x01") + tlv.encode(0x7F60, header + tlv.encode(0x5F2E, block))
    return tlv.encode(0x75, tlv.encode(0x7F61, group))


def encode_text_group(tag: int, fields: dict[int, bytes]) -> bytes:
    """DG11 (tag 6B) or DG12 (tag 6C): a tag list 5C, then the fields."""
    tag_list = b"".join(t.to_bytes(2, "big") for t in fields)
    return tlv.encode(tag, tlv.encode(0x5C, tag_list) + b"".join(tlv.encode(t, v) for t, v in fields.items()))


@functools.lru_cache(maxsize=4)
def face_image(kind: str = "jpeg", width: int = 240, height: int = 320) -> bytes:
    """A real face: the BSI reference passport's photo (shipped with the BSI profile),
    re-encoded by Pillow as JPEG or JPEG 2000."""
    from PIL import Image

    source = (resources.files("emrtd.sim") / "data" / "bsi" / "dg2.bin").read_bytes()
    photo = Image.open(io.BytesIO(dg2_parser.parse(source).face.data)).convert("RGB")
    photo = photo.resize((width, height))
    out = io.BytesIO()
    if kind == "jpeg":
        photo.save(out, "JPEG", quality=80)
    elif kind == "jp2":
        photo.save(out, "JPEG2000", quality_mode="rates", quality_layers=[20])
    else:
        raise EmrtdError(f"unknown image kind {kind!r}")
    return out.getvalue()


# -- passports ----------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Passport:
    spec: PassportSpec
    files: dict[str, bytes] = field(repr=False)
    keys: AuthKeys = field(repr=False)
    mrz: mrz.MRZ = field(repr=False)


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


def _ca_key(text: str) -> tuple[ChipAuthenticationInfo, pace.Domain, int | None]:
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


def _aa_key(
    text: str, seed: pki.Seed, label: str
) -> tuple[rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, str]:
    kind, size, hash_name = text.split("-")
    hash_name = hash_name.lower()
    if kind == "RSA":
        return pki.rsa_key(seed, label, int(size)), hash_name
    return pki.ec_key(seed, label, {"P256": "secp256r1", "P384": "secp384r1"}.get(size, size)), hash_name


def build(spec: PassportSpec, pki_seed: str = DEFAULT_SEED) -> Passport:
    """The files and chip keys of a passport (cached per spec and PKI seed)."""
    return _build(spec, pki_seed)


@functools.lru_cache(maxsize=64)
def _build(spec: PassportSpec, pki_seed: str) -> Passport:
    trust = test_pki(pki_seed)
    seed = pki.Seed(trust.seed.seed + b"/" + spec.name.split("+")[0].encode())
    faults = spec.faults
    holder = mrz.parse("\n".join(spec.mrz_lines))
    lines = list(spec.mrz_lines)
    if "wrong-issuing-state" in faults:
        lines[0] = lines[0][:2] + "D<<" + lines[0][5:]
    files: dict[str, bytes] = {"dg1": encode_dg1("".join(lines))}
    image = face_image(spec.image)
    files["dg2"] = encode_dg2(image, 0 if spec.image == "jpeg" else 1, 240, 320)
    files["dg11"] = encode_text_group(
        0x6B, {0x5F0E: b"ERIKSSON<<ANNA<MARIA", 0x5F2B: b"19740812", 0x5F11: b"ZENITH,UTOPIA"}
    )
    files["dg12"] = encode_text_group(0x6C, {0x5F19: b"UTOPIA PASSPORT OFFICE", 0x5F26: b"20250415"})
    if spec.extended_length:
        files["atrinfo"] = encode_atr_info(65535, 65536)

    pace_infos = tuple(parse_pace(text) for text in spec.pace)
    ca_keys: list[StaticKey] = []
    chip_ca_keys: list[StaticKey] = []
    dg14_items: list[bytes] = [pace_info(info) for info in pace_infos]
    if spec.ca and "no-dg14" not in faults:
        info, domain, key_id = _ca_key(spec.ca)
        private = domain.private_key(seed.stream("ca-key"))
        key = StaticKey(info, domain, private, key_id)
        ca_keys.append(key)
        chip_private = domain.private_key(seed.stream("clone-ca-key")) if "clone" in faults else private
        chip_ca_keys.append(StaticKey(info, domain, chip_private, key_id))
        dg14_items += [ca_info(info), ca_public_key_info(key)]

    aa_private = None
    aa_hash = "sha1"
    if spec.aa and "no-dg15" not in faults:
        aa_private, aa_hash = _aa_key(spec.aa, seed, "aa")
        spki = aa_private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        files["dg15"] = tlv.encode(0x6F, spki)
        if isinstance(aa_private, ec.EllipticCurvePrivateKey):
            dg14_items.append(aa_info(activeauth.ECDSA_PLAIN_OIDS[aa_hash]))
        if "wrong-aa-key" in faults:
            aa_private, _ = _aa_key(spec.aa, seed, "wrong-aa")
    if dg14_items and "no-dg14" not in faults:
        files["dg14"] = tlv.encode(0x6E, security_infos(dg14_items))

    cam_private = None
    if pace_infos:
        files["cardaccess"] = security_infos([pace_info(info) for info in pace_infos])
        cam = next((info for info in pace_infos if info.mapping == "CAM"), None)
        card_security_items = [pace_info(info) for info in pace_infos]
        if cam is not None:
            cam_domain = pace.domain(cam)
            cam_private = cam_domain.private_key(seed.stream("cam-key"))
            cam_info = ChipAuthenticationInfo(f"{ID_CA}.2.2", 1, None, "ECDH", "AES", 16)
            cam_key = StaticKey(cam_info, cam_domain, cam_private)
            card_security_items += [ca_info(cam_info), ca_public_key_info(cam_key)]
            if "clone" in faults:
                cam_private = cam_domain.private_key(seed.stream("clone-cam-key"))
        files["cardsecurity"] = _sign(
            pki.OID_SECURITY_OBJECT, security_infos(card_security_items), spec, trust
        )

    data_groups = {name: raw for name, raw in files.items() if name.startswith("dg")}
    signed_hashes = dict(data_groups)
    if "tampered-dg" in faults:
        files["dg1"] = files["dg1"].replace(b"ANNA<MARIA", b"EVA<<MARIA")
    files["sod"] = sign_sod(
        group_hashes(signed_hashes, spec.sod_hash),
        _document_signer(spec, trust),
        hash_name=spec.sod_hash,
        signing_time=_signing_time(spec),
    )
    tag_of = {number: tag for tag, number in DG_TAGS.items()}
    files["com"] = encode_com(
        [tag_of[int(name[2:])] for name in sorted(data_groups, key=lambda n: int(n[2:]))]
    )

    keys_ = AuthKeys(
        mrz_key=holder.access_key,
        can=mrz.CANKey(spec.can),
        pace=pace_infos,
        ca_keys=tuple(chip_ca_keys),
        cam_key=cam_private,
        aa_key=aa_private,
        aa_hash=aa_hash,
    )
    return Passport(spec, files, keys_, holder)


def lds_security_object(hashes: Mapping[int, bytes], hash_name: str = "sha256") -> bytes:
    """The DER LDSSecurityObject (9303-10 §4.6.2.2) over the given data group hashes."""
    values = [
        {"data_group_number": number, "data_group_hash_value": digest}
        for number, digest in sorted(hashes.items())
    ]
    return bytes(
        LDSSecurityObject(
            {"version": 0, "hash_algorithm": {"algorithm": hash_name}, "data_group_hash_values": values}
        ).dump()
    )


def group_hashes(groups: Mapping[str, bytes], hash_name: str = "sha256") -> dict[int, bytes]:
    """Hashes of data groups given by DocVal name (``dg1`` …)."""
    return {int(name[2:]): hashlib.new(hash_name, raw).digest() for name, raw in groups.items()}


def sign_sod(
    hashes: Mapping[int, bytes],
    signer: pki.Authority,
    *,
    hash_name: str = "sha256",
    signing_time: datetime | None = None,
    message_digest: bytes | None = None,
) -> bytes:
    """EF.SOD (tag 77) over ``hashes``, signed by ``signer``; ``message_digest`` overrides the
    signed attribute (for negative tests)."""
    content = lds_security_object(hashes, hash_name)
    info = pki.signed_data(
        pki.OID_LDS_SECURITY_OBJECT,
        content,
        signer,
        digest=hash_name,
        signing_time=signing_time,
        message_digest=message_digest,
    )
    return tlv.encode(0x77, info.dump())


def _document_signer(spec: PassportSpec, trust: TestPKI) -> pki.Authority:
    faults = spec.faults
    if "unknown-dsc" in faults:
        return trust.rogue_dsc
    if "expired-dsc" in faults:
        return trust.dsc_expired
    if "revoked-dsc" in faults:
        return trust.dsc_revoked
    return trust.dsc_rsa if spec.signer == "rsa" else trust.dsc_ec


def _signing_time(spec: PassportSpec) -> datetime:
    return pki.utc(2024, 6, 1) if "expired-dsc" in spec.faults else pki.utc(2025, 4, 15)


def _sign(content_type: str, content: bytes, spec: PassportSpec, trust: TestPKI) -> bytes:
    signer = _document_signer(spec, trust)
    info = pki.signed_data(
        content_type, content, signer, digest=spec.sod_hash, signing_time=_signing_time(spec)
    )
    return bytes(info.dump())
