"""EF.CardSecurity (9303-11 §9.2.1, BSI TR-03110-3 §A.1.2): CMS SignedData, signed by a DSC, whose
eContent (type ``id-SecurityObject`` 0.4.0.127.0.7.3.2.1) is a SecurityInfos set. PACE-CAM
terminals take the chip's static key from it. Parsing only; the signature is checked like
the SOD's."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import signeddata
from .base import check_size, parsing
from .securityinfos import SecurityInfos, parse_security_infos

OID_SECURITY_OBJECT = "0.4.0.127.0.7.3.2.1"


@dataclass(frozen=True, slots=True)
class CardSecurity(signeddata.SignedFile):
    security_infos: SecurityInfos
    signed: signeddata.Signed
    raw: bytes = field(repr=False)


def parse(raw: bytes) -> CardSecurity:
    check_size("cardsecurity", raw)
    with parsing("cardsecurity"):
        signed = signeddata.parse_signed(raw, OID_SECURITY_OBJECT, "EF.CardSecurity")
        return CardSecurity(parse_security_infos(signed.econtent), signed, raw)
