"""PACE against ICAO 9303-11 App. G.1 (ECDH-GM, both sides byte for byte) and H.1 (ECDH-IM),
and every mapping/cipher/group combination run between our terminal and the virtual chip."""

from __future__ import annotations

import os
from typing import Any

import pytest

from emrtd import ecmath, exchange, pace
from emrtd.apdu import CommandAPDU
from emrtd.errors import AccessKeyError, CryptoError, UnsupportedAlgorithmError
from emrtd.lds.dg14 import parse_card_access
from emrtd.lds.securityinfos import PACEInfo
from emrtd.mrz import CANKey, MRZKey
from emrtd.sim.auth import AuthKeys
from emrtd.sim.chip import ChipConfig, VirtualChip
from emrtd.testing import fixed_random

# 9303-11 App. G.1 (vectors file §2.4)
G1_CARD_ACCESS = "31143012060A04007F0007020204020202010202010D"
G1_KEY = MRZKey("T22000129", "640812", "101031")
G1_NONCE = "3F00C4D39D153F2B2A214A078D899B22"
G1_TERMINAL_MAP_SK = "7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99"
G1_CHIP_MAP_SK = "498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560"
G1_TERMINAL_EPH_SK = "A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595"
G1_CHIP_EPH_SK = "107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A"
G1_CHIP_MAP_X = "824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
G1_CHIP_EPH_X = "9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"


def g1_info() -> PACEInfo:
    return parse_card_access(bytes.fromhex(G1_CARD_ACCESS)).pace[0]


def link(chip: VirtualChip):  # type: ignore[no-untyped-def]
    transmit = chip.transmit

    return transmit


def test_g1_password_key_and_encrypted_nonce() -> None:
    """K_π and z = E(K_π, s) are App. G.1's."""
    info = g1_info()
    k_pi = pace.password_key(G1_KEY.pace_secret, info)
    assert k_pi.hex().upper() == "89DED1B26624EC1E634C1989302849DD"
    assert (
        pace.encrypt_nonce(k_pi, bytes.fromhex(G1_NONCE), info).hex().upper()
        == "95A3A016522EE98D01E76CB6B98B42C3"
    )


def test_g1_mapping_secret_keys_and_tokens() -> None:
    """Generic mapping, shared secret, session keys and both tokens are App. G.1's."""
    info = g1_info()
    base = pace.domain(info)
    assert isinstance(base, pace.ECDomain)
    chip_map = base.public_key(int(G1_CHIP_MAP_SK, 16))
    assert chip_map[1:33].hex().upper() == G1_CHIP_MAP_X
    terminal_map = base.public_key(int(G1_TERMINAL_MAP_SK, 16))
    assert terminal_map[1:5].hex().upper() == "7ACF3EFC"
    mapped = base.map_generic(bytes.fromhex(G1_NONCE), int(G1_TERMINAL_MAP_SK, 16), chip_map, "test")
    assert (
        format(mapped.generator[0], "064X")
        == "8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2"
    )
    assert (
        format(mapped.generator[1], "064X")
        == "8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522"
    )
    chip_eph = mapped.public_key(int(G1_CHIP_EPH_SK, 16))
    assert chip_eph[1:33].hex().upper() == G1_CHIP_EPH_X
    terminal_eph = mapped.public_key(int(G1_TERMINAL_EPH_SK, 16))
    secret = mapped.secret(int(G1_TERMINAL_EPH_SK, 16), chip_eph, "test")
    assert secret.hex().upper() == "28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925"
    ks_enc, ks_mac = pace.session_keys(secret, info)
    assert ks_enc.hex().upper() == "F5F0E35C0D7161EE6724EE513A0D9A7F"
    assert ks_mac.hex().upper() == "FE251C7858B356B24514B3BD5F4297D1"
    assert pace.auth_token(ks_mac, info, 0x86, chip_eph).hex().upper() == "C2B0BD78D94BA866"
    assert pace.auth_token(ks_mac, info, 0x86, terminal_eph).hex().upper() == "3ABB9674BCE93C08"


def test_g1_chip_side_byte_for_byte() -> None:
    """Driven with App. G.1's terminal APDUs and its nonce and keys, the chip answers as G.1."""
    info = g1_info()
    chip = VirtualChip(
        ChipConfig(files={"com": b"\x60\x00"}, keys=AuthKeys(mrz_key=G1_KEY, pace=(info,))),
        fixed_random(G1_NONCE, G1_CHIP_MAP_SK, G1_CHIP_EPH_SK),
    )
    base = pace.domain(info)
    assert isinstance(base, pace.ECDomain)

    def send(hexstr: str) -> str:
        return chip.transmit_raw(bytes.fromhex(hexstr)).hex().upper()

    assert send("0022C1A40F800A04007F00070202040202830101") == "9000"
    assert send("10860000027C0000") == "7C12801095A3A016522EE98D01E76CB6B98B42C39000"
    terminal_map = base.public_key(int(G1_TERMINAL_MAP_SK, 16)).hex().upper()
    reply = send("10860000457C438141" + terminal_map + "00")
    assert reply.startswith("7C43824104" + G1_CHIP_MAP_X) and reply.endswith("9000")
    mapped = base.map_generic(
        bytes.fromhex(G1_NONCE), int(G1_TERMINAL_MAP_SK, 16), bytes.fromhex(reply[8:-4]), "test"
    )
    terminal_eph = mapped.public_key(int(G1_TERMINAL_EPH_SK, 16)).hex().upper()
    reply = send("10860000457C438341" + terminal_eph + "00")
    assert reply.startswith("7C43844104" + G1_CHIP_EPH_X) and reply.endswith("9000")
    assert send("008600000C7C0A8508C2B0BD78D94BA86600") == "7C0A86083ABB9674BCE93C089000"
    assert (
        chip.state.sm is not None
        and chip.state.sm.ks_enc.hex().upper() == "F5F0E35C0D7161EE6724EE513A0D9A7F"
        and chip.state.sm.ssc == 0
    )


def test_g1_terminal_against_chip_with_g1_randomness() -> None:
    """Our terminal with G.1's keys against the chip with G.1's nonce ends with G.1's keys."""
    info = g1_info()
    chip = VirtualChip(
        ChipConfig(files={"com": b"\x60\x00"}, keys=AuthKeys(mrz_key=G1_KEY, pace=(info,))),
        fixed_random(G1_NONCE, G1_CHIP_MAP_SK, G1_CHIP_EPH_SK),
    )
    result = exchange.run(
        pace.pace(info, G1_KEY, fixed_random(G1_TERMINAL_MAP_SK, G1_TERMINAL_EPH_SK)), link(chip)
    )
    assert result.sm.ks_enc.hex().upper() == "F5F0E35C0D7161EE6724EE513A0D9A7F"
    assert result.sm.ks_mac.hex().upper() == "FE251C7858B356B24514B3BD5F4297D1"


def test_h1_integrated_mapping() -> None:
    """R_p(s, t) and the encoded generator G~ are App. H.1's (ECDH-IM, brainpoolP256r1)."""
    info = PACEInfo(pace.protocol_oid("ECDH", "IM", "AES", 16), 2, 13, "ECDH", "IM", "AES", 16)
    base = pace.domain(info)
    value = pace.pseudo_random(
        bytes.fromhex("2923BE84E16CD6AE529049F1F1BBE9EB"),
        bytes.fromhex("5DD4CBFC96F5453B130D890A1CDBAE32"),
        base.prime,
        info,
    )
    assert format(value, "064X") == "A2F8FF2DF50E52C6599F386ADCB595D229F6A167ADE2BE5F2C3296ADD5B7430E"
    mapped = base.map_integrated(value)
    assert isinstance(mapped, pace.ECDomain)
    assert (
        format(mapped.generator[0], "064X")
        == "8E82D31559ED0FDE92A4D0498ADD3C23BABA94FB77691E31E90AEA77FB17D427"
    )


COMBINATIONS = [
    ("ECDH", "GM", "AES", 16, 12),
    ("ECDH", "GM", "AES", 24, 15),
    ("ECDH", "GM", "AES", 32, 18),
    ("ECDH", "GM", "AES", 16, 13),
    ("ECDH", "GM", "AES", 24, 16),
    ("ECDH", "GM", "AES", 32, 17),
    ("ECDH", "GM", "3DES", 16, 13),
    ("ECDH", "GM", "AES", 16, 11),
    # curves cryptography lacks or rarely sees: secp192r1, brainpoolP192r1, secp224r1, brainpoolP320r1
    ("ECDH", "GM", "AES", 16, 8),
    ("ECDH", "GM", "AES", 16, 9),
    ("ECDH", "GM", "AES", 16, 10),
    ("ECDH", "GM", "AES", 24, 14),
    ("ECDH", "IM", "AES", 16, 14),
    ("DH", "GM", "AES", 16, 0),
    ("DH", "GM", "3DES", 16, 1),
    ("DH", "GM", "AES", 32, 2),
    ("ECDH", "IM", "AES", 16, 13),
    ("ECDH", "IM", "AES", 32, 12),
    ("ECDH", "IM", "3DES", 16, 13),
    ("DH", "IM", "AES", 16, 0),
    ("ECDH", "CAM", "AES", 16, 13),
    ("ECDH", "CAM", "AES", 32, 12),
]


def pace_chip(info: PACEInfo, key: MRZKey | CANKey, cam_key: int | None = None) -> VirtualChip:
    keys = AuthKeys(mrz_key=G1_KEY, can=CANKey("123456"), pace=(info,), cam_key=cam_key)
    return VirtualChip(ChipConfig(files={"com": b"\x60\x03\x01\x02\x03"}, keys=keys))


@pytest.mark.parametrize(("agreement", "mapping", "cipher", "length", "param"), COMBINATIONS)
def test_round_trip(agreement: str, mapping: str, cipher: str, length: int, param: int) -> None:
    """Terminal and chip agree on keys, and the chip then answers SM-protected reads."""
    fields: Any = (agreement, mapping, cipher, length)  # plain strings from the parameter table
    info = PACEInfo(pace.protocol_oid(agreement, mapping, cipher, length), 2, param, *fields)
    base = pace.domain(info)
    cam_key = base.private_key(os.urandom) if mapping == "CAM" else None
    chip = pace_chip(info, G1_KEY, cam_key)
    transmit = link(chip)
    result = exchange.run(pace.pace(info, CANKey("123456"), os.urandom), transmit)
    assert chip.state.sm is not None and result.sm.ks_mac == chip.state.sm.ks_mac
    select = CommandAPDU(0x00, 0xA4, 0x04, 0x0C, bytes.fromhex("A0000002471001"))
    response = exchange.run(exchange.transmit(select, result.sm), transmit)
    assert response.ok
    if mapping == "CAM":
        assert isinstance(base, pace.ECDomain) and cam_key is not None
        static_public = base.public_key(cam_key)
        assert pace.verify_chip_authentication_data(result, static_public)
        other = base.public_key(base.private_key(os.urandom))
        assert not pace.verify_chip_authentication_data(result, other)


def test_wrong_password_is_an_access_key_error() -> None:
    """A wrong MRZ fails the chip's token check (6300) and raises AccessKeyError."""
    info = g1_info()
    chip = pace_chip(info, G1_KEY)
    with pytest.raises(AccessKeyError):
        exchange.run(pace.pace(info, MRZKey("T22000129", "640812", "111031"), os.urandom), link(chip))
    assert chip.state.sm is None


def test_chip_refuses_unknown_protocol_and_missing_password() -> None:
    """MSE:Set AT with an unoffered OID gets 6A80; a password the chip lacks gets 6A88."""
    info = g1_info()
    chip = VirtualChip(ChipConfig(files={}, keys=AuthKeys(mrz_key=G1_KEY, pace=(info,))))
    dh_info = PACEInfo(pace.protocol_oid("DH", "GM", "AES", 16), 2, 0, "DH", "GM", "AES", 16)
    other = pace.mse_set_at(dh_info, 1)
    assert chip.transmit_raw(other.to_bytes()) == b"\x6a\x80"
    assert chip.transmit_raw(pace.mse_set_at(info, 2).to_bytes()) == b"\x6a\x88"
    assert chip.transmit_raw(bytes.fromhex("10860000027C0000")) == b"\x69\x85"


def test_chip_rejects_a_point_off_the_curve() -> None:
    """A mapping key that is not on the curve ends PACE with 6A80."""
    info = g1_info()
    chip = pace_chip(info, G1_KEY)
    chip.transmit_raw(pace.mse_set_at(info, 1).to_bytes())
    chip.transmit_raw(bytes.fromhex("10860000027C0000"))
    bogus = b"\x04" + bytes(63) + b"\x01"
    reply = chip.transmit_raw(pace.general_authenticate(0x81, bogus).to_bytes())
    assert reply == b"\x6a\x80"


def test_choose_prefers_cam_then_gm() -> None:
    """choose() takes CAM over GM over IM and skips unknown domain parameters."""

    def make(mapping: str, param: int) -> PACEInfo:
        return PACEInfo(pace.protocol_oid("ECDH", mapping, "AES", 16), 2, param, "ECDH", mapping, "AES", 16)  # type: ignore[arg-type]

    assert pace.choose([make("IM", 13), make("GM", 13), make("CAM", 13)]).mapping == "CAM"
    assert pace.choose([make("IM", 13), make("GM", 99)]).mapping == "IM"
    with pytest.raises(UnsupportedAlgorithmError):
        pace.choose([make("GM", 99)])


def test_point_encoding_lands_on_the_curve() -> None:
    """f_G maps field elements to curve points for every p = 3 mod 4 curve we know."""
    from emrtd import curves

    for curve in curves.CURVES:
        if curve.p % 4 == 3:
            point = ecmath.encode_to_curve(curve, 0x1234567890ABCDEF)
            assert curve.contains(*point)
    with pytest.raises(CryptoError):
        ecmath.decode(curves.by_name("brainpoolP256r1"), b"\x04" + bytes(64), "x")


def _hex(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# 9303-11 App. G.2 (DH-GM, RFC 5114 1024-bit group), as kept in JMRTD's PACEProtocolTest.
G2_NONCE = _hex("FA5B7E3E 49753A0D B9178B7B 9BD898C8")
G2_H = _hex(
    "5BABEBEF 5B74E5BA 94B5C063 FDA15F1F 1CDE9487 3EE0A5D3 A2FCAB49 F258D07F 544F13CB 66658C3A"
    "FEE9E727 389BE3F6 CBBBD321 28A8C21D D6EEA3CF 7091CDDF B08B8D00 7D40318D CCA4FFBF 51208790"
    "FB4BD111 E5A968ED 6B6F08B2 6CA87C41 0B3CE0C3 10CE104E ABD16629 AA48620C 1279270C B0750C0D"
    "37C57FFF E302AE7F"
)
G2_MAPPED = _hex(
    "7C9CBFE9 8F9FBDDA 8D143506 FA7D9306 F4CB17E3 C71707AF F5E1C1A1 23702496 84D64EE3 7AF44B8D"
    "BD9D45BF 6023919C BAA027AB 97ACC771 666C8E98 FF483301 BFA4872D EDE9034E DFACB708 14166B7F"
    "36067682 9B826BEA 57291B5A D69FBC84 EF1E7790 32A30580 3F743417 93E86974 2D401325 B37EE856"
    "5FFCDEE6 18342DC5"
)
G2_TERMINAL_SK = _hex(
    "4BD0E547 40F9A028 E6A515BF DAF96784 8C4F5F5F FF65AA09 15947FFD 1A0DF2FA 6981271B C905F355"
    "1457B7E0 3AC3B806 6DE4AA40 6C1171FB 43DD939C 4BA16175 103BA3DE E16419AA 248118F9 0CC36A3D"
    "6F4C3736 52E0C3CC E7F0F1D0 C5425B36 00F0F0D6 A67F004C 8BBA33F2 B4733C72 52445C1D FC4F1107"
    "203F71D2 EFB28161"
)
G2_TERMINAL_PK = _hex(
    "907D89 E2D425A1 78AA81AF 4A7774EC 8E388C11 5CAE6703 1E85EECE 520BD911 551B9AE4 D04369F2"
    "9A02626C 86FBC674 7CC7BC35 2645B616 1A2A42D4 4EDA80A0 8FA8D61B 76D3A154 AD8A5A51 786B0BC0"
    "71470578 71A92221 2C5F67F4 31731722 36B7747D 1671E6D6 92A3C7D4 0A0C3C5C E397545D 015C175E"
    "B5130551 EDBC2EE5 D4"
)
G2_CHIP_PK = _hex(
    "075693D9 AE941877 573E634B 6E644F8E 60AF17A0 076B8B12 3D920107 4D36152B D8B3A213 F53820C4"
    "2ADC79AB 5D0AEEC3 AEFB9139 4DA476BD 97B9B14D 0A65C1FC 71A0E019 CB08AF55 E1F72900 5FBA7E3F"
    "A5DC4189 9238A250 767A6D46 DB974064 386CD456 743585F8 E5D90CC8 B4004B1F 6D866C79 CE0584E4"
    "9687FF61 BC29AEA1"
)
G2_SECRET = _hex(
    "6BABC7B3 A72BCD7E A385E4C6 2DB2625B D8613B24 149E146A 629311C4 CA6698E3 8B834B6A 9E9CD718"
    "4BA8834A FF5043D4 36950C4C 1E783236 7C10CB8C 314D40E5 990B0DF7 013E64B4 549E2270 923D06F0"
    "8CFF6BD3 E977DDE6 ABE4C31D 55C0FA2E 465E553E 77BDF75E 3193D383 4FC26E8E B1EE2FA1 E4FC97C1"
    "8C3F6CFF FE2607FD"
)


def test_g2_dh_generic_mapping() -> None:
    """App. G.2: g~, the terminal key, K, the session keys, both data objects and tokens."""
    info = parse_card_access(_hex("3114 3012060A 04007F00 07020204 01020201 02020100")).pace[0]
    assert (info.key_agreement, info.mapping, info.parameter_id) == ("DH", "GM", 0)
    base = pace.domain(info)
    assert isinstance(base, pace.DHDomain)
    mapped = base.map_with_shared(G2_NONCE, int.from_bytes(G2_H, "big"))
    assert mapped.generator == int.from_bytes(G2_MAPPED, "big")
    assert mapped.public_key(int.from_bytes(G2_TERMINAL_SK, "big")) == G2_TERMINAL_PK
    secret = mapped.secret(int.from_bytes(G2_TERMINAL_SK, "big"), G2_CHIP_PK, "test")
    assert secret == G2_SECRET
    ks_enc, ks_mac = pace.session_keys(secret, info)
    assert ks_enc.hex().upper() == "2F7F46ADCC9E7E521B45D192FAFA9126"
    assert ks_mac.hex().upper() == "805A1D27D45A5116F73C54469462B7D8"
    assert (
        pace.public_key_data(info, 0x84, G2_CHIP_PK)
        == _hex("7F49818F 060A0400 7F000702 02040102 848180") + G2_CHIP_PK
    )
    assert pace.auth_token(ks_mac, info, 0x84, G2_CHIP_PK).hex().upper() == "B46DD9BD4D98381F"
    assert pace.auth_token(ks_mac, info, 0x84, G2_TERMINAL_PK).hex().upper() == "917F37B5C0E6D8D1"


def test_h1_mapped_generator_y() -> None:
    """App. H.1: the encoded point's y coordinate too."""
    curve = pace.domain(PACEInfo(pace.protocol_oid("ECDH", "IM", "AES", 16), 2, 13, "ECDH", "IM", "AES", 16))
    assert isinstance(curve, pace.ECDomain)
    value = int("A2F8FF2DF50E52C6599F386ADCB595D229F6A167ADE2BE5F2C3296ADD5B7430E", 16)
    mapped = curve.map_integrated(value)
    assert isinstance(mapped, pace.ECDomain)
    assert (
        format(mapped.generator[1], "064X")
        == "4C1AE14BD0C3DBAC0C871B7F3608169364437CA30AC243A089D3F266C1E60FAD"
    )


def test_h2_dh_integrated_mapping() -> None:
    """App. H.2 (DH-IM, 1024-bit group, AES): R_p(s, t) and the mapped generator g~."""
    info = PACEInfo(pace.protocol_oid("DH", "IM", "AES", 16), 2, 0, "DH", "IM", "AES", 16)
    base = pace.domain(info)
    value = pace.pseudo_random(G2_NONCE, _hex("B3A6DB3C 870C3E99 245E0D1C 06B747DE"), base.prime, info)
    assert value == int.from_bytes(
        _hex(
            "A0C7C50C 002061A5 1CC87D25 4EF38068 607417B6 "
            "EE1B3647 3CFB800D 2D2E5FA2 B6980F01 105D24FA B22ACD1B"
            "FA5C8A4C 093ECDFA FE6D7125 D42A843E 33860383 "
            "5CF19AFA FF75EFE2 1DC5F6AA 1F9AE46C 25087E73 68166FB0"
            "8C1E4627 AFED7D93 570417B7 90FF7F74 7E57F432 B04E1236 819E0DFE F5B6E77C A4999925 328182D2"
        ),
        "big",
    )
    mapped = base.map_integrated(value)
    assert isinstance(mapped, pace.DHDomain)
    assert mapped.generator == int.from_bytes(
        _hex(
            "1D7D767F 11E333BC D6DBAEF4 0E799E7A 926B9697 "
            "3550656F F3C83072 6D118D61 C276CDCC 61D475CF 03A98E0C"
            "0E79CAEB A5BE2557 8BD4551D 0B109032 36F0B0F9 "
            "76852FA7 8EEA14EA 0ACA87D1 E91F688F E0DFF897 BBE35A47"
            "2621D343 564B262F 34223AE8 FC59B664 BFEDFA2B FE7516CA 5510A6BB B633D517 EC25D4E0 BBAA16C2"
        ),
        "big",
    )
