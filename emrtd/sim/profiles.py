"""Ready-made virtual passports.

``bsi`` / ``bsi-short``
    The BSI TR-03105-5 reference passport (shipped under ``emrtd/sim/data/bsi``) with its
    published chip keys: BAC, Chip Authentication (ECDH-3DES on explicit brainpoolP224r1)
    and Active Authentication (RSA-1024). ``bsi-short`` has no extended length. Its SOD is
    signed by a BSI test DSC that is not in our test trust store.

``utopia``, ``utopia-bac``, ``utopia-pace``, ``utopia-im``, ``utopia-dh``
    Documents of the test PKI (:mod:`emrtd.sim.documents`), trusted by its CSCAs; see
    :data:`DESCRIPTIONS` for the protocols each offers. Any fault mode of
    :data:`emrtd.sim.spec.FAULTS` can be added to these.

The access key is the MRZ of DG1 (and, for PACE, the CAN ``123456``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from importlib import resources

from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives.serialization import load_der_private_key

from ..errors import EmrtdError
from ..lds import dg1, dg14
from ..pace import ECDomain
from . import documents
from .auth import AuthKeys, StaticKey
from .chip import ChipConfig
from .spec import PassportSpec

SPECS: dict[str, PassportSpec] = {
    "utopia": PassportSpec("utopia"),
    "utopia-bac": PassportSpec("utopia-bac", pace=(), ca="ECDH-3DES-128:secp256r1", aa="RSA-2048-SHA256",
                               image="jp2", signer="rsa"),
    "utopia-pace": PassportSpec("utopia-pace", bac=False, pace=("ECDH-CAM-AES-128:13", "ECDH-GM-AES-256:17"),
                                ca="ECDH-AES-256:brainpoolP384r1#1", aa="ECDSA-P256-SHA256"),
    "utopia-im": PassportSpec("utopia-im", pace=("ECDH-IM-AES-128:13", "DH-IM-3DES-128:0"),
                              ca="DH-3DES-128:rfc5114-1024-160"),
    "utopia-dh": PassportSpec("utopia-dh", pace=("DH-GM-AES-128:2",), ca="DH-AES-128:rfc5114-2048-224#7",
                              aa="RSA-1024-SHA256"),
}

DESCRIPTIONS = {
    "bsi": "BSI TR-03105-5 reference passport: BAC, CA ECDH-3DES (brainpoolP224r1), AA RSA-1024",
    "bsi-short": "as bsi, without extended length",
    "utopia": "BAC + PACE ECDH-GM AES-128 P-256, CA ECDH AES-128 brainpoolP256r1, AA RSA-1024 SHA-1, JPEG",
    "utopia-bac": "BAC only, CA ECDH-3DES P-256 (MSE:Set KAT), AA RSA-2048 SHA-256, JPEG 2000, RSA-PSS SOD",
    "utopia-pace": "PACE only: ECDH-CAM AES-128 brainpoolP256r1 and ECDH-GM AES-256 brainpoolP512r1, "
                   "CA ECDH AES-256 brainpoolP384r1 key id 1, AA ECDSA P-256",
    "utopia-im": "BAC + PACE ECDH-IM AES-128 and DH-IM 3DES, CA DH-3DES 1024-bit",
    "utopia-dh": "BAC + PACE DH-GM AES-128 2048-bit (extended length), CA DH AES-128 2048-bit key id 7",
}

PROFILES = ("bsi", "bsi-short", *SPECS)


def _bsi() -> ChipConfig:
    folder = resources.files("emrtd.sim") / "data" / "bsi"
    names = ("com", "sod", "dg1", "dg2", "dg3", "dg4", "dg14", "dg15")
    files = {name: (folder / f"{name}.bin").read_bytes() for name in names}
    ca_scalar = asn1_keys.PrivateKeyInfo.load((folder / "dg14_sk.pkcs8").read_bytes())["private_key"].parsed
    infos = dg14.parse(files["dg14"]).security_infos
    public = infos.chip_authentication_keys[0]
    curve = public.public_key.curve  # type: ignore[union-attr]
    ca_info = infos.chip_authentication[0] if infos.chip_authentication else None
    ca_key = StaticKey(ca_info, ECDomain(curve, (curve.gx, curve.gy)), ca_scalar["private_key"].native,
                       public.key_id)
    aa_key = load_der_private_key((folder / "dg15_sk.pkcs8").read_bytes(), None)
    keys = AuthKeys(mrz_key=dg1.parse(files["dg1"]).mrz.access_key, ca_keys=(ca_key,),
                    aa_key=aa_key)  # type: ignore[arg-type]
    return ChipConfig(files=files, keys=keys, bac=True)


def passport(name: str, faults: Iterable[str] = ()) -> documents.Passport:
    """The generated passport of a ``utopia*`` profile, with fault modes applied."""
    if name not in SPECS:
        raise EmrtdError(f"{name!r} is not a generated profile; those are: {', '.join(SPECS)}")
    spec = SPECS[name]
    faults = tuple(faults)
    if faults:
        spec = spec.with_faults(*faults)
    return documents.build(spec)


def load(name: str, faults: Iterable[str] = ()) -> ChipConfig:
    """The chip configuration of a named profile, with optional fault modes."""
    faults = tuple(faults)
    if name in ("bsi", "bsi-short"):
        if faults:
            raise EmrtdError("fault modes apply to the utopia profiles only")
        config = _bsi()
        return replace(config, extended_length=name == "bsi")
    if name not in SPECS:
        raise EmrtdError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
    document = passport(name, faults)
    return ChipConfig(files=dict(document.files), keys=document.keys, bac=document.spec.bac,
                      extended_length=document.spec.extended_length, sfi="no-sfi" not in faults)
