"""Opening a document for reading: PACE when EF.CardAccess offers it (9303-11 §4.2: a chip
that supports PACE must be opened with it), else BAC; with PACE-CAM the chip's
authentication data are checked against EF.CardSecurity's key (9303-11 §4.4.3.5.2); then the
LDS1 application is selected under the new secure messaging. One exchange for every reader
of this library."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import bac, pace, reader
from .errors import AuthenticationError, ChipSessionError, EmrtdError
from .exchange import Exchange
from .interfaces import RandomSource
from .lds import cardsecurity, dg14
from .mrz import AccessKey, MRZKey
from .pubkey import ECPublicKey
from .sm import SecureMessaging


@dataclass(frozen=True)
class CamCheck:
    """PACE-CAM's chip authentication (9303-11 §4.4.3.5.2): whether the chip's CA data fit
    the static key of EF.CardSecurity, EF.CardSecurity as read (for its signature check by
    Passive Authentication), and why the check failed."""

    verified: bool
    card_security: bytes | None = field(default=None, repr=False)
    reason: str | None = None


@dataclass(frozen=True)
class Opened:
    """An open document: the channel, the protocol (``"PACE"`` or ``"BAC"``), and the CAM
    check when PACE used the Chip Authentication Mapping (None otherwise)."""

    sm: SecureMessaging = field(repr=False)
    protocol: str
    cam: CamCheck | None = None
    card_access: bytes | None = field(default=None, repr=False)  # EF.CardAccess as read, if any


def check_cam(
    result: pace.PACEResult, *, max_block: int | reader.BlockSize = reader.DEFAULT_MAX_BLOCK
) -> Exchange[CamCheck]:
    """Read EF.CardSecurity (in the MF, after PACE) and check the chip's CAM data against
    the chip authentication key in it. Never raises for the document's content."""
    try:
        raw = yield from reader.read_file(reader.EF_CARD_SECURITY, result.sm, max_block=max_block)
    except EmrtdError as exc:
        return CamCheck(False, None, f"EF.CardSecurity cannot be read: {exc}")
    try:
        keys = cardsecurity.parse(raw).security_infos.chip_authentication_keys
    except EmrtdError as exc:
        return CamCheck(False, raw, f"EF.CardSecurity cannot be parsed: {exc}")
    points = [k.public_key.encode_point() for k in keys if isinstance(k.public_key, ECPublicKey)]
    if not points:
        return CamCheck(False, raw, "EF.CardSecurity holds no chip authentication key for PACE-CAM")
    if any(pace.verify_chip_authentication_data(result, point) for point in points):
        return CamCheck(True, raw)
    return CamCheck(False, raw, "the chip's PACE-CAM data do not match EF.CardSecurity's key")


def open_document(
    key: AccessKey, random: RandomSource, *, max_block: int | reader.BlockSize = reader.DEFAULT_MAX_BLOCK
) -> Exchange[Opened]:
    """Run access control (and the CAM check after PACE-CAM), then select LDS1.

    A refused key raises :class:`~emrtd.errors.AccessKeyError`; a CAN on a chip without PACE
    raises :class:`~emrtd.errors.AuthenticationError`; a failure once the channel is open (the
    SELECT of LDS1 under secure messaging) raises :class:`~emrtd.errors.ChipSessionError`."""
    raw: bytes | None = None
    try:
        yield from reader.select_master_file()
        raw = yield from reader.read_file(reader.EF_CARD_ACCESS, None, max_block=max_block)
        infos = list(dg14.parse_card_access(raw).pace)
    except EmrtdError:
        infos = []  # no (readable) EF.CardAccess: a BAC chip
    cam: CamCheck | None = None
    if infos:
        result = yield from pace.pace(pace.choose(infos), key, random)
        sm: SecureMessaging = result.sm
        protocol = "PACE"
        if result.info.mapping == "CAM":
            cam = yield from check_cam(result, max_block=max_block)
    elif isinstance(key, MRZKey):
        yield from reader.select_applet()
        sm = yield from bac.bac(key, random)
        protocol = "BAC"
    else:
        raise AuthenticationError(
            "this chip offers no PACE: give the MRZ, not the CAN", step="access control"
        )
    try:
        yield from reader.select_applet(sm=sm)
    except EmrtdError as exc:
        raise ChipSessionError(exc.message, step=exc.step or "SELECT application") from None
    return Opened(sm, protocol, cam, raw or None)
