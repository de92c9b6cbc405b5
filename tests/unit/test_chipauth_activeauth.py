"""Chip Authentication and Active Authentication, terminal side, against published vectors:
gmrtd's recorded ECDH-AES CA session with an Austrian passport (vectors file §2.6), ICAO
9303-11 App. F and the real-passport and BouncyCastle ISO/IEC 9796-2 triples kept by pymrtd
(§2.8). Plus PACE with a wrong chip token."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from emrtd import access, activeauth, chipauth, exchange, pace, reader
from emrtd.apdu import CommandAPDU, ResponseAPDU
from emrtd.errors import AuthenticationError, VerificationError
from emrtd.lds import dg14, dg15
from emrtd.sim import profiles
from emrtd.sim.chip import VirtualChip
from emrtd.sm import SecureMessaging
from emrtd.testing import ScriptedCard, fixed_random

# gmrtd chipauth/chip_auth_test.go TestChipAuthAT: DG14 with an explicit brainpoolP256r1 key,
# id-CA-ECDH-AES-CBC-CMAC-128, no key id; SM (AES) before CA with SSC ...F0.
AT_DG14 = (
    "6E82017E3182017A300D060804007F0007020202020101300F060A04007F000702020302020201013012060A04007F00070202"
    "04020202010202010D30820142060904007F000702020102308201333081EC06072A8648CE3D02013081E0020101302C0607"
    "2A8648CE3D0101022100A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377304404207D5A0975"
    "FC2C3057EEF67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9042026DC5C6CE94A4B44F330B5D9BBD77CBF958416295C"
    "F7E1CE6BCCDC18FF8C07B60441048BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262547EF835C3"
    "DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F046997022100A9FB57DBA1EEA9BC3E660A909D838D718C397AA3B5"
    "61A6F7901E0E82974856A7020101034200041983917269AC877C0B61544C2C022000D2A5ABA723E2D80141E648B40911DC3459"
    "761F27480E4B57181A53D8FE1190EA86C939AC14363178CAFFC621F0F905C3"
)
AT_SCRIPT = [
    (
        "0C2241A41D8711015D8F69B1EA365CCE4304970DB12421F38E085340D338128085E700",
        "990290008E083F5136E82A6C34779000",
    ),
    (
        "0C860000608751019E18F1BA79D805379752BB560EB70AAC3CE3BC5AFE2FDD4AEB325CA8B578B4A93B9F66A5DF40005F8E8785"
        "35251D33DD974AAF77FB858773E5799FA9DC1034E89B1150EC7F0BB3DB4BF37A1B9EA4458A9701008E089D204D950C0B95DB00",
        "8711010B0A5DFFC7432DE4DEB604291377A05B990290008E08B3384A1F5D1579739000",
    ),
    (
        "0CA4020C1D8711011B2EE500E84960DF7F37AFE7ADFF53838E084500F3B43E192A5700",
        "990290008E0803C4B125B4218CEF9000",
    ),
]


def test_gmrtd_recorded_ca_session_byte_for_byte() -> None:
    """With the recorded terminal key, our CA sends the recorded APDUs and ends with its keys."""
    infos = dg14.parse(bytes.fromhex(AT_DG14)).security_infos
    key_info, info = infos.chip_authentication_keys[0], infos.chip_authentication[0]
    plan = chipauth.prepare(
        key_info, fixed_random("80EBAFC8A51BECD4D90BB640EE38C9FD5C12748D28AAA37096B98C4533C4F5F5"), info
    )
    assert plan.ephemeral_public.hex().upper() == (
        "04"
        "4827C781BE1AC7A00B351214FD783AC76D99E831A6316C8FD6DE7BD96CFA31DA"
        "06B6B57BA380789729F4A028212A768C49BF5F97D98B1DB12BEEC1A1CD324FB2"
    )
    card = ScriptedCard(AT_SCRIPT)
    sm = SecureMessaging(
        "AES",
        bytes.fromhex("524170DE3419B7AF2F23E45AD6EF9595"),
        bytes.fromhex("97893F5FDC29A5C13A924FE7D8ED44FD"),
        0xF0,
    )
    new = exchange.run(chipauth.chip_authentication(plan, sm), card.transmit)
    assert new.ks_enc.hex().upper() == "C8E27260EFD3F318D18C080CBF11C7E6"
    assert new.ks_mac.hex().upper() == "A942190365204A21409EB28B52BF9160"
    exchange.run(reader.select_ef(reader.file_by_name("dg14"), new), card.transmit)
    assert card.done and new.ssc == 2


def test_one_flight_matches_the_recorded_ca_session() -> None:
    """Wrapped in advance (each answer's count skipped), the one-flight CA commands are the
    recorded session's byte for byte; its recorded answers verify in order and prove the keys."""
    infos = dg14.parse(bytes.fromhex(AT_DG14)).security_infos
    key_info, info = infos.chip_authentication_keys[0], infos.chip_authentication[0]
    plan = chipauth.prepare(
        key_info, fixed_random("80EBAFC8A51BECD4D90BB640EE38C9FD5C12748D28AAA37096B98C4533C4F5F5"), info
    )
    sm = SecureMessaging(
        "AES",
        bytes.fromhex("524170DE3419B7AF2F23E45AD6EF9595"),
        bytes.fromhex("97893F5FDC29A5C13A924FE7D8ED44FD"),
        0xF0,
    )
    flight = chipauth.CAFlight(plan, sm, 223, read_dg1_first=False)
    assert [c.to_bytes().hex().upper() for c in flight.commands[:2]] == [c for c, _r in AT_SCRIPT[:2]]
    for _command, response in AT_SCRIPT[:2]:
        assert flight.receive(ResponseAPDU.from_bytes(bytes.fromhex(response))) is None
    # the third command (READ BINARY DG1 under the new keys) was not recorded: answer it as
    # the chip would, with the recorded new keys
    chip_side = SecureMessaging(
        "AES",
        bytes.fromhex("C8E27260EFD3F318D18C080CBF11C7E6"),
        bytes.fromhex("A942190365204A21409EB28B52BF9160"),
        0,
    )
    assert chip_side.unwrap_command(flight.commands[2]).ins == 0xB0
    outcome = flight.receive(chip_side.wrap_response(ResponseAPDU(bytes.fromhex("61035F1F00"), 0x9000)))
    assert outcome is not None and outcome.failure is None and outcome.dg1 == bytes.fromhex("61035F1F00")
    assert outcome.dg1_complete and outcome.sm.ssc == 2


@pytest.mark.parametrize("profile", ["utopia", "utopia-bac", "utopia-dh"])
def test_one_flight_against_the_virtual_chip(profile: str) -> None:
    """Relayed in order to a chip: the flight proves the key and returns DG1 read before and
    after CA (equal); a cloned chip is a failure with clone evidence and DG1 still in hand."""
    for faults, ok in (((), True), (("clone",), False)):
        chip = VirtualChip(profiles.load(profile, faults))
        assert chip.config.mrz_key is not None
        sm = exchange.run(access.open_document(chip.config.mrz_key, os.urandom), chip.transmit).sm
        raw14 = exchange.run(reader.read_file(reader.file_by_name("dg14"), sm), chip.transmit)
        plan = chipauth.plan_from_dg14(raw14, os.urandom)
        assert isinstance(plan, chipauth.CAPlan)
        flight = chipauth.CAFlight(plan, sm, 223)
        answers = [chip.transmit(command) for command in flight.commands]  # all out before one is read
        outcomes = [flight.receive(answer) for answer in answers]
        outcome = outcomes[-1]
        assert outcome is not None and outcomes[:-1] == [None] * (len(answers) - 1)
        assert outcome.dg1_before is not None and outcome.dg1_before[0] == 0x61
        if ok:
            assert outcome.failure is None and outcome.dg1 == outcome.dg1_before and outcome.dg1_complete
        else:
            assert outcome.failure and outcome.evidence and outcome.dg1 is None


def test_one_flight_refused_ca_is_the_chips_evidence() -> None:
    """A chip that refuses MSE:Set AT with a protected 6A80 fails CA by its own answer; a plain
    6F00 (what iOS relays when it cannot reach the chip) is no evidence."""
    infos = dg14.parse(profiles.passport("utopia").files["dg14"]).security_infos
    plan = chipauth.prepare(infos.chip_authentication_keys[0], os.urandom, infos.chip_authentication[0])
    sm = SecureMessaging("AES", bytes(16), bytes(16), 0)
    flight = chipauth.CAFlight(plan, sm, 223, read_dg1_first=False)
    chip_side = sm.copy()
    chip_side.unwrap_command(flight.commands[0])
    outcome = flight.receive(chip_side.wrap_response(ResponseAPDU(b"", 0x6A80)))
    for _rest in flight.commands[1:]:
        outcome = flight.receive(ResponseAPDU(b"", 0x6988))
    assert outcome is not None and outcome.failure == "chip refused CA with 6A80" and outcome.evidence
    relayed = chipauth.CAFlight(plan, sm, 223, read_dg1_first=False)
    for _command in relayed.commands:
        outcome = relayed.receive(ResponseAPDU(b"", 0x6F00))
    assert outcome is not None and outcome.failure and not outcome.evidence


def test_ca_refusal_is_an_authentication_error() -> None:
    """A chip that refuses MSE:Set AT for CA gives AuthenticationError, not a traceback."""
    infos = dg14.parse(profiles.passport("utopia").files["dg14"]).security_infos
    plan = chipauth.prepare(infos.chip_authentication_keys[0], os.urandom, infos.chip_authentication[0])
    with pytest.raises(AuthenticationError, match="refused CA with 6982"):
        # no access control yet: the chip refuses MSE:Set AT with 6982
        exchange.run(
            chipauth.chip_authentication(plan, SecureMessaging("AES", bytes(16), bytes(16), 0)),
            lambda c: ResponseAPDU(b"", 0x6982),
        )


# -- Active Authentication --------------------------------------------------------------------

# pymrtd tests/pki/iso9796e2_test.py: a real passport's DG15 (RSA-1024) and four triples.
REAL_DG15 = (
    "6F81A230819F300D06092A864886F70D010101050003818D0030818902818100BD8620D45693E1CD8678639F22E9553F09E3AFD87B"
    "D26000113CE2798B7A02A2E0AB6B7525D09072109D938D6708167E8FAFAF83F17BFBA36CECCE26058C7ED9AE29516755B19F78CE0E"
    "73DA02340B117B8AB2ECA007F1390E93E896016335EB5C1E330B961C03E253D17874F7ABEE8D4962C49FFE578D46954FF23B26F5E5"
    "550203010001"
)
REAL_TRIPLES = [
    (
        "47E4EE7F211F7326",
        "8AECE4E0AB1A6B9E06B31ACBA51AE316D0B7B48E2F5FE13E575060F6B9DC27A2F9D03DCF67A141F466EEC753879106BE0992F46F5E"
        "AAD075EB1886D2ACE90D60C2EDA69880780CE4FA36EF27AB01C47527BD23B178EC8F213307281572C219487FC11B2C3D9C144DC98D"
        "96D1A79A7478449D692D3D14E8C044F81B3ADF0047E0",
        "60735d54c4fc7759a2093c4b6f6f09dac2ddb103bd14b512e5683aed8ed7eb8fd3dd6bf122dadf8c2c43d359f8f6e6537dadec03d2"
        "1b385a9b3bf6111751558f860ce3701574d742962110ad81d08f13e5e9439d912ac2b3f61d60cc48700f5260a82ca06362dd077e75",
    ),
    (
        "5DD17658F6E21C13",
        "97251259E9EB453A8DC2D9CD85D5A49D2E83F31D6465CB1FBD09C5E7800D4F0FB9FF7312343CD3955CA3BE6768AD7938F3D36B0C9E"
        "2205923786949B5F48FBF1C94D01B5BC9DA88C8293E118F87E14E4CC409D52AA7ED266E20248AB3C04949838540DEB24588436607E"
        "A620B4825D002C5FAB4F07B618D72C0A9EC247653FE7",
        "51d3acac47e1f3b2f438218d4deb5386f6a53d74271c4c2498c86c721f485f0332ff4d1ab94b559fbf4c6c73917647eaa09ff5d179"
        "fb7a5e84327b6ded162a967ef0fd78d8f3f05cb360a4aa78651f4464c830a62575d4fbea6fe56f6021e50970925c7447b7d0274f68",
    ),
    (
        "18BD6C81F37598E2",
        "12C0972DFE9E1DDB42B46130D64339E0845578D85E5F0ED7C9E12036AE0C3D417BBAAA6CA5579E782DDEADA825E432C2AE9593B8DB"
        "5806327E22B18CD0AB86353C314925A01390806A1D6E8DDE2CD0D82D9671457139241E93BC308E5573C335D14EF6182A5171A443A8"
        "2A2568D6B1373A1F227377C584ABA7B1E8B1F47E393F",
        "097d0235b982189b854a80e67ad9087b22590b49279727d471c12fa40412c499aefc6a38faacb1e5042b9fb06826c678dca36e61e1"
        "6ea3a7c17ead774a28f66a6a21d2277355ce134b59d8953dda7ce37ea836210aa3a2abed9159e91ea047223dcb16578537864642b2",
    ),
    (
        "0A2756299542EFCF",
        "0854CF7B69FB54286F97FC8B396722E21156DFEEC38CF5C63035B09A59C4EA7FCA79865D5EE166548AAE5AE1F629A57459B46F5D1D"
        "1E4EFE9369C0075903D3CA282D6B2CF5843E62CE53BEA33E3D6AA7A48147CC38C9B534437FD0DCD0F0C787BE74061DFA844435253D"
        "651E7986BA47F49FA49D7041BD1FE72B5E5D09221FD1",
        "6ed132d3836b72e561edfb1948b8cfc6049de6d00a724a9747f13fb2ad26676455bf1bf2a7b29a5b27b34c893bdabee203e1c8a20f"
        "fb277971363fc74543ac6419916ae2179360252519e25e4f2e5534810071072a34c25b92773e61f6ab75c35da4238bd78eb6cbbdde",
    ),
]
# BouncyCastle ISO9796Test, as quoted by pymrtd.
BC_SPKI = (
    "30819f300d06092a864886f70d010101050003818d0030818902818100CDCBDABBF93BE8E8294E32B055256BBD0397735189BF7581"
    "6341BB0D488D05D627991221DF7D59835C76A4BB4808ADEEB779E7794504E956ADC2A661B46904CDC71337DD29DDDD454124EF79CF"
    "DD7BC2C21952573CEFBA485CC38C6BD2428809B5A31A898A6B5648CAA4ED678D9743B589134B7187478996300EDBA16271A8610203"
    "010001"
)
BC_SIGNATURE = (
    "482E20D1EDDED34359C38F5E7C01203F9D6B2641CDCA5C404D49ADAEDE034C7481D781D043722587761C90468DE69C6585A1E8B9C3"
    "22F90E1B580EEDAB3F6007D0C366CF92B4DB8B41C8314929DCE2BE889C0129123484D2FD3D12763D2EBFD12AC8E51D7061AFCA1A53"
    "DEDEC7B9A617472A78C952CCC72467AE008E5F132994"
)


@pytest.mark.parametrize(("challenge", "signature", "m1"), REAL_TRIPLES)
def test_real_passport_signatures_verify_and_recover_m1(challenge: str, signature: str, m1: str) -> None:
    """A real passport's AA signatures verify with its DG15 and recover the published M1."""
    key = dg15.parse(bytes.fromhex(REAL_DG15)).public_key
    assert isinstance(key, rsa.RSAPublicKey)
    activeauth.verify(key, bytes.fromhex(challenge), bytes.fromhex(signature))
    recovered, hash_name, _ = activeauth.recover_rsa(key, bytes.fromhex(signature))
    assert recovered == bytes.fromhex(m1) and hash_name == "sha1"
    wrong = bytearray.fromhex(challenge)
    wrong[0] ^= 1
    with pytest.raises(VerificationError, match="does not match the challenge"):
        activeauth.verify(key, bytes(wrong), bytes.fromhex(signature))
    broken = bytearray.fromhex(signature)
    broken[len(broken) // 2] ^= 1
    with pytest.raises(VerificationError):
        activeauth.verify(key, bytes.fromhex(challenge), bytes(broken))


def test_bouncycastle_vector() -> None:
    """BouncyCastle's ISO 9796-2 scheme 1 vector verifies over the all-zero message."""
    from emrtd import pubkey

    key = pubkey.parse_spki(bytes.fromhex(BC_SPKI))
    activeauth.verify(key, bytes(8), bytes.fromhex(BC_SIGNATURE))


def test_appendix_f_representative() -> None:
    """9303-11 App. F: the representative F opens to its M1 and SHA-1 H, which cover M1 ‖ M2."""
    f = bytes.fromhex(
        "6A9D2784A67F8E7C659973EA1AEA25D95B6C8F91E5002F369F0FBDCE8A3CEC1991B543F1696546C5524CF23A5303CD6C98599F40B7"
        "9F377B5F3A1406B3B4D8F96784D23AA88DB7E1032A405E69325FA91A6E86F5C71AEA978264C4A207446DAD4E7292E2DCDA3024B47D"
        "A8C063AA1E6D22FBD976AB0FE73D94D2D9C6D88127BC"
    )
    m1, hash_name, digest = activeauth.open_representative(f)
    assert hash_name == "sha1" and digest.hex().upper() == "C063AA1E6D22FBD976AB0FE73D94D2D9C6D88127"
    assert m1 == f[1:-21]
    import hashlib

    assert hashlib.sha1(m1 + bytes.fromhex("F173589974BF40C6")).digest() == digest


def test_wrong_trailer_is_rejected() -> None:
    """A representative ending in neither BC nor hash-id‖CC is refused with a trailer reason."""
    with pytest.raises(VerificationError, match="trailer"):
        activeauth.open_representative(b"\x6a" + bytes(100) + b"\x37\xcc")
    with pytest.raises(VerificationError, match="trailer"):
        activeauth.open_representative(b"\x6a" + bytes(100) + b"\xbd")
    with pytest.raises(VerificationError, match="header"):
        activeauth.open_representative(b"\x4b" + bytes(100) + b"\xbc")


@pytest.mark.parametrize("hash_name", ["sha1", "sha224", "sha256", "sha384", "sha512"])
def test_rsa_sign_and_verify_every_hash(hash_name: str) -> None:
    """The chip's 9796-2 signatures verify for every trailer hash (BC for SHA-1, else id‖CC)."""
    key = rsa.generate_private_key(65537, 1024)
    challenge = os.urandom(8)
    signature = activeauth.sign_rsa(key, challenge, os.urandom, hash_name)
    activeauth.verify(key.public_key(), challenge, signature)
    assert activeauth.recover_rsa(key.public_key(), signature)[1] == hash_name


def test_pace_with_a_wrong_chip_token() -> None:
    """A chip whose GA4 token is wrong fails PACE with AuthenticationError naming the step."""
    config = profiles.load("utopia")
    chip = VirtualChip(config)

    def transmit(command: CommandAPDU) -> ResponseAPDU:
        response = chip.transmit(command)
        if command.cla == 0x00 and command.ins == 0x86 and response.data[:4] == b"\x7c\x0a\x86\x08":
            return ResponseAPDU(response.data[:-1] + bytes([response.data[-1] ^ 1]), response.sw)
        return response

    info = pace.choose(dg14.parse_card_access(config.files["cardaccess"]).pace)
    assert config.mrz_key is not None
    with pytest.raises(AuthenticationError, match="token is wrong") as caught:
        exchange.run(pace.pace(info, config.mrz_key, os.urandom), transmit)
    assert caught.value.step == "PACE GA4 (tokens)"
