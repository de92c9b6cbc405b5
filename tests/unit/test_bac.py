"""BAC replays ICAO 9303-11 Appendix D byte for byte and names its failures."""

from __future__ import annotations

import pytest

from emrtd import bac, exchange
from emrtd.errors import AccessKeyError, AuthenticationError
from emrtd.mrz import MRZKey
from emrtd.testing import ScriptedCard, fixed_random

KEY = MRZKey("L898902C", "690806", "940623")
EXT_AUTH = "008200002872C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F25F1448EEA8AD90A728"
CHIP_REPLY = "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449"


def appendix_d_random() -> object:
    return fixed_random("781723860C06C226", "0B795240CB7049B01C19B33E32804F0B")


def test_derives_appendix_d_keys() -> None:
    """App. D.2: K_enc and K_mac (parity-adjusted) from Kseed."""
    k_enc, k_mac = bac.derive_keys(KEY.kseed)
    assert k_enc.hex().upper() == "AB94FDECF2674FDFB9B391F85D7F76F2"
    assert k_mac.hex().upper() == "7962D9ECE03D1ACD4C76089DCE131543"


def test_replays_appendix_d() -> None:
    """App. D.3: the same APDUs, session keys and SSC as the worked example."""
    card = ScriptedCard([("0084000008", "4608F919887022129000"), (EXT_AUTH, CHIP_REPLY + "9000")])
    sm = exchange.run(bac.bac(KEY, appendix_d_random()), card.transmit)  # type: ignore[arg-type]
    assert card.done
    assert sm.ks_enc.hex().upper() == "979EC13B1CBFE9DCD01AB0FED307EAE5"
    assert sm.ks_mac.hex().upper() == "F1CB1F1FB5ADF208806B89DC579DC1F8"
    assert sm.ssc == 0x887022120C06C226


def test_wrong_key_is_access_key_error() -> None:
    """A chip answering 6300 to EXTERNAL AUTHENTICATE means the access key is wrong."""
    card = ScriptedCard([("0084000008", "4608F919887022129000"), (EXT_AUTH, "6300")])
    with pytest.raises(AccessKeyError) as info:
        exchange.run(bac.bac(KEY, appendix_d_random()), card.transmit)  # type: ignore[arg-type]
    assert info.value.step == "BAC EXTERNAL AUTHENTICATE"


def test_forged_chip_reply_is_rejected() -> None:
    """A chip cryptogram with a bad MAC fails authentication (not a crash)."""
    forged = CHIP_REPLY[:-2] + "48"
    card = ScriptedCard([("0084000008", "4608F919887022129000"), (EXT_AUTH, forged + "9000")])
    with pytest.raises(AuthenticationError):
        exchange.run(bac.bac(KEY, appendix_d_random()), card.transmit)  # type: ignore[arg-type]


def test_short_challenge_is_rejected() -> None:
    """A GET CHALLENGE answer that is not 8 bytes is an authentication error."""
    card = ScriptedCard([("0084000008", "46089000")])
    with pytest.raises(AuthenticationError):
        exchange.run(bac.bac(KEY, appendix_d_random()), card.transmit)  # type: ignore[arg-type]
