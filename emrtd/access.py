"""Opening a document for reading: PACE when EF.CardAccess offers it (9303-11 §4.2: a chip
that supports PACE must be opened with it), else BAC; then the LDS1 application is selected
under the new secure messaging. One exchange for every reader of this library."""

from __future__ import annotations

from collections.abc import Callable

from . import bac, pace, reader
from .errors import AuthenticationError, EmrtdError
from .exchange import Exchange
from .lds import dg14
from .mrz import AccessKey, MRZKey
from .sm import SecureMessaging

RandomSource = Callable[[int], bytes]


def open_document(
    key: AccessKey, random: RandomSource, *, max_block: int | reader.BlockSize = reader.DEFAULT_MAX_BLOCK
) -> Exchange[tuple[SecureMessaging, str]]:
    """Run access control; return the channel and the protocol used (``"PACE"`` or ``"BAC"``).

    A refused key raises :class:`~emrtd.errors.AccessKeyError`; a CAN on a chip without PACE
    raises :class:`~emrtd.errors.AuthenticationError`."""
    try:
        yield from reader.select_master_file()
        raw = yield from reader.read_file(reader.EF_CARD_ACCESS, None, max_block=max_block)
        infos = list(dg14.parse_card_access(raw).pace)
    except EmrtdError:
        infos = []  # no (readable) EF.CardAccess: a BAC chip
    if infos:
        sm: SecureMessaging = (yield from pace.pace(pace.choose(infos), key, random)).sm
        protocol = "PACE"
    elif isinstance(key, MRZKey):
        yield from reader.select_applet()
        sm = yield from bac.bac(key, random)
        protocol = "BAC"
    else:
        raise AuthenticationError(
            "this chip offers no PACE: give the MRZ, not the CAN", step="access control"
        )
    yield from reader.select_applet(sm=sm)
    return sm, protocol
