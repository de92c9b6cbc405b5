"""DER and LDS encoders for building test documents: SecurityInfos (PACE, CA, AA), EF.ATR/INFO,
EF.COM, DG1, DG2 (ISO/IEC 19794-5 face records, with a real face re-encoded by Pillow),
DG11/DG12, the LDSSecurityObject and EF.SOD. The parsers of :mod:`emrtd.lds` read all of
them back."""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Mapping
from datetime import datetime
from importlib import resources

from asn1crypto import core, keys

from .. import curves, dhgroups, pace, tlv
from ..errors import EmrtdError
from ..lds import dg2 as dg2_parser
from ..lds.securityinfos import ID_AA, ID_PK, ChipAuthenticationInfo, PACEInfo
from ..lds.sod import LDSSecurityObject
from ..pubkey import OID_STANDARDIZED_DOMAIN_PARAMETERS
from . import pki
from .auth import StaticKey


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


def ca_public_key_info(key: StaticKey, *, explicit: bool = False, standardized: bool = False) -> bytes:
    """ChipAuthenticationPublicKeyInfo: id-PK-DH/ECDH, the SubjectPublicKeyInfo, key id.

    ``standardized`` names the domain by its BSI standardized domain parameter id
    (TR-03110-3 §A.2.1.1, 9303-11 Table 6) instead of spelling it out, as German and Finnish
    documents do."""
    public = key.domain.public_key(key.private)
    if standardized:
        return _seq(
            _oid(ID_PK + (".2" if isinstance(key.domain, pace.ECDomain) else ".1")),
            standardized_spki(key.domain, public),
            _int(key.key_id) if key.key_id is not None else b"",
        )
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


def standardized_spki(domain: pace.Domain, public: bytes) -> bytes:
    """SubjectPublicKeyInfo with algorithm standardizedDomainParameters and the parameter id
    as its INTEGER parameters; the key is the EC point, or the DH value as a DER INTEGER."""
    if isinstance(domain, pace.ECDomain):
        ids = [i for i, curve in curves.BY_PACE_ID.items() if curve.name == domain.curve.name]
        key_bits = public
    else:
        ids = [i for i, group in dhgroups.BY_PACE_ID.items() if group.name == domain.group.name]
        key_bits = _int(int.from_bytes(public, "big"))
    if not ids:
        raise EmrtdError("this domain has no standardized parameter id")
    algorithm = _seq(_oid(OID_STANDARDIZED_DOMAIN_PARAMETERS), _int(ids[0]))
    return _seq(algorithm, tlv.encode(0x03, b"\x00" + key_bits))


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
    content_type: str = pki.OID_LDS_SECURITY_OBJECT,
) -> bytes:
    """EF.SOD (tag 77) over ``hashes``, signed by ``signer``; ``message_digest`` overrides the
    signed attribute (for negative tests), ``content_type`` the eContentType (some issuers
    wrote id-data)."""
    content = lds_security_object(hashes, hash_name)
    info = pki.signed_data(
        content_type,
        content,
        signer,
        digest=hash_name,
        signing_time=signing_time,
        message_digest=message_digest,
    )
    return tlv.encode(0x77, info.dump())
