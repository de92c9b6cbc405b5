"""Reading files: SFI selection, chunking, odd-INS offsets and end-of-file answers."""

from __future__ import annotations

import pytest

from emrtd import exchange, reader, tlv
from emrtd.apdu import CommandAPDU, ResponseAPDU
from emrtd.errors import LDSError, StatusWordError
from emrtd.testing import ScriptedCard


class FileCard:
    """A minimal plain card holding one EF, answering READ BINARY like ISO 7816-4."""

    def __init__(self, content: bytes, *, answer_6c: bool = False) -> None:
        self.content = content
        self.answer_6c = answer_6c
        self.commands: list[CommandAPDU] = []

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        self.commands.append(command)
        if command.ins == 0xA4:
            return ResponseAPDU(b"", 0x9000)
        if command.ins == 0xB0:
            offset = command.p2 if command.p1 & 0x80 else (command.p1 << 8) | command.p2
        else:
            offset = int.from_bytes(tlv.decode_single(command.data).value, "big")
        assert command.ne is not None
        remaining = self.content[offset:]
        if not remaining:
            return ResponseAPDU(b"", 0x6B00)
        if self.answer_6c and command.ne > len(remaining) and command.ins == 0xB0:
            return ResponseAPDU(b"", 0x6C00 | min(len(remaining), 255))
        if command.ins == 0xB1:
            body = remaining[: command.ne - 4]
            return ResponseAPDU(tlv.encode(0x53, body), 0x9000)
        data = remaining[: command.ne]
        return ResponseAPDU(data, 0x6282 if len(data) < command.ne else 0x9000)


def make_file(size: int) -> bytes:
    body = bytes(i % 251 for i in range(size))
    return tlv.encode(0x75, body)


def test_reads_small_file_in_one_command() -> None:
    """A file shorter than the block is read with one READ BINARY by SFI (6282 accepted)."""
    content = make_file(50)
    card = FileCard(content)
    data = exchange.run(reader.read_file(reader.DATA_GROUPS[2]), card.transmit)
    assert data == content
    assert len(card.commands) == 1 and card.commands[0].p1 == 0x82


def test_chunks_at_max_block() -> None:
    """A 1000-byte file is read in ceil(size/223) commands, each at most 223 bytes."""
    content = make_file(1000)
    card = FileCard(content)
    data = exchange.run(reader.read_file(reader.DATA_GROUPS[2]), card.transmit)
    assert data == content
    assert len(card.commands) == -(-len(content) // 223)
    assert all((c.ne or 0) <= 223 for c in card.commands)


def test_offsets_above_32767_use_odd_ins() -> None:
    """Past offset 32767 the reader switches to READ BINARY B1 with DO'54'."""
    content = make_file(40000)
    card = FileCard(content)
    data = exchange.run(reader.read_file(reader.DATA_GROUPS[2], max_block=4096), card.transmit)
    assert data == content
    assert any(c.ins == 0xB1 for c in card.commands)
    assert all(c.ins == 0xB0 for c in card.commands if c.ins == 0xB0 and c.p1 < 0x80)


def test_wrong_le_answer_is_retried() -> None:
    """6Cxx makes the reader ask again for exactly xx bytes."""
    content = make_file(30)
    card = FileCard(content, answer_6c=True)
    assert exchange.run(reader.read_file(reader.DATA_GROUPS[2]), card.transmit) == content


def test_select_instead_of_sfi() -> None:
    """With use_sfi=False the EF is SELECTed by FID first."""
    content = make_file(10)
    card = FileCard(content)
    exchange.run(reader.read_file(reader.EF_COM, use_sfi=False), card.transmit)
    assert card.commands[0].to_bytes().hex() == "00a4020c02011e"


def test_file_not_found_raises_status_word_error() -> None:
    """6A82 to the READ BINARY by SFI, then to SELECT by file id: StatusWordError naming the file."""
    card = ScriptedCard([("00B08F00DF", "6A82"), ("00A4020C02010F", "6A82")])
    with pytest.raises(StatusWordError) as info:
        exchange.run(reader.read_file(reader.DATA_GROUPS[15]), card.transmit)
    assert info.value.sw == 0x6A82 and "dg15" in str(info.value) and card.done


def test_absent_file_costs_one_apdu_once_sfi_is_known_to_work() -> None:
    """After an SFI read succeeded, 6A82 to an SFI read means "no such file": no SELECT."""
    card = ScriptedCard([("00B08F00DF", "6A82")])
    blocks = reader.BlockSize(223, sfi=True)
    assert exchange.run(reader.read_optional(reader.DATA_GROUPS[15], max_block=blocks), card.transmit) is None
    assert card.done


def test_chip_without_sfi_is_read_by_file_identifier() -> None:
    """A chip that refuses SFI reads: SELECT EF by file id and READ BINARY by offset, and the
    next file goes straight to SELECT."""
    content = bytes.fromhex("6103") + b"abc"
    card = ScriptedCard(
        [
            ("00B08100DF", "6A82"),
            ("00A4020C020101", "9000"),
            ("00B00000DF", content.hex() + "6282"),
            ("00A4020C020102", "9000"),
            ("00B00000DF", content.hex() + "6282"),
        ]
    )
    blocks = reader.BlockSize(223)
    assert exchange.run(reader.read_file(reader.DATA_GROUPS[1], max_block=blocks), card.transmit) == content
    assert blocks.sfi is False
    assert exchange.run(reader.read_file(reader.DATA_GROUPS[2], max_block=blocks), card.transmit) == content
    assert card.done


def test_truncated_file_is_returned_as_held() -> None:
    """A file shorter than its TLV header says comes back as the chip holds it (no hang, no
    exception): its parser reports it as a finding."""
    content = make_file(500)[:300]
    card = FileCard(content)
    assert exchange.run(reader.read_file(reader.DATA_GROUPS[2]), card.transmit) == content


def test_empty_file_is_empty_bytes() -> None:
    """An empty EF (6B00 at offset 0) reads as b"" in one command, not as an error."""
    card = FileCard(b"")
    assert exchange.run(reader.read_file(reader.DATA_GROUPS[2]), card.transmit) == b""
    assert len(card.commands) == 1


def test_file_without_tlv_header_is_its_first_block() -> None:
    """A file that does not start with a TLV header is returned as read, for the parser."""
    content = b"\x75\x84\xff\xff\xff\xff" + bytes(20)
    card = FileCard(content)
    assert exchange.run(reader.read_file(reader.DATA_GROUPS[2]), card.transmit) == content


def test_file_names() -> None:
    """DocVal file names map to EFs; unknown names are LDSErrors."""
    assert reader.file_by_name("dg14").fid == 0x010E
    assert reader.file_by_name("sod").sfi == 0x1D
    with pytest.raises(LDSError):
        reader.file_by_name("dg17")
