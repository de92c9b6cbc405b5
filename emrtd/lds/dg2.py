"""DG2: encoded face (9303-10 §4.7.2).

``75 → 7F61 (biometric information group) → 02 count, 7F60 × count → A1 header,
5F2E or 7F2E biometric data block``. The data block is either ISO/IEC 19794-5 (binary,
starts ``FAC\\0``) or ISO/IEC 39794-5 (DER, ``[APPLICATION 5]``). Both are read to the image,
whose format is taken from its own signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import tlv
from ..errors import LDSError
from .base import outer, parsing
from .images import ImageFormat, image_format


@dataclass(frozen=True, slots=True)
class FaceImage:
    format: ImageFormat
    data: bytes = field(repr=False)
    container: str  # "ISO19794-5" or "ISO39794-5"
    width: int | None = None
    height: int | None = None

    def __repr__(self) -> str:
        return f"FaceImage({self.format}, {len(self.data)} bytes, {self.container})"


@dataclass(frozen=True, slots=True)
class DG2:
    faces: tuple[FaceImage, ...]
    raw: bytes = field(repr=False)

    @property
    def face(self) -> FaceImage:
        return self.faces[0]


def _u(data: bytes, offset: int, size: int) -> int:
    if offset + size > len(data):
        raise LDSError("ISO 19794-5 record is truncated")
    return int.from_bytes(data[offset : offset + size], "big")


def parse_iso19794_5(block: bytes) -> list[FaceImage]:
    """Facial record data (ISO/IEC 19794-5:2005 §5): header, then facial records."""
    if block[:4] != b"FAC\x00":
        raise LDSError("19794-5 block does not start with FAC\\0")
    record_length = _u(block, 8, 4)
    if record_length > len(block):
        raise LDSError("19794-5 record length exceeds the block")
    count = _u(block, 12, 2)
    offset = 14
    faces = []
    for _ in range(count):
        start = offset
        length = _u(block, start, 4)
        points = _u(block, start + 4, 2)
        if length < 32 or start + length > len(block):
            raise LDSError("19794-5 facial record length is out of range")
        info = start + 20 + 8 * points
        width, height = _u(block, info + 2, 2), _u(block, info + 4, 2)
        image = block[info + 12 : start + length]
        faces.append(FaceImage(image_format(image), image, "ISO19794-5", width, height))
        offset = start + length
    return faces


def _find_path(objects: list[tlv.TLV], path: tuple[int, ...]) -> list[tlv.TLV]:
    found = [obj for obj in objects if obj.tag == path[0]]
    if len(path) == 1:
        return found
    out = []
    for obj in found:
        if obj.constructed:
            out += _find_path(obj.children(), path[1:])
    return out


def parse_iso39794_5(block: bytes) -> list[FaceImage]:
    """ISO/IEC 39794-5 FaceImageDataBlock (DER): representationBlocks [1] → each
    RepresentationBlock → imageRepresentation [1] → base [0] → 2D block [0] → data [0]."""
    top = tlv.decode_single(block)
    if top.tag != 0x65:
        # Some writers wrap the block in a context tag; look one level down.
        inner = [obj for obj in top.children() if obj.tag == 0x65] if top.constructed else []
        if not inner:
            raise LDSError("39794-5 block is not [APPLICATION 5]")
        top = inner[0]
    images = []
    for rep in _find_path(top.children(), (0xA1, 0x30)):
        for data in _find_path(rep.children(), (0xA1, 0xA0, 0xA0, 0x80)):
            images.append(FaceImage(image_format(data.value), data.value, "ISO39794-5"))
    if not images:
        raise LDSError("39794-5 block holds no 2D image")
    return images


def parse(raw: bytes) -> DG2:
    top = outer("dg2", raw, 0x75)
    with parsing("dg2"):
        group = tlv.find(top.children(der=False), 0x7F61)
        if group is None:
            raise LDSError("DG2 lacks the biometric information group template 7F61")
        faces: list[FaceImage] = []
        for template in group.children(der=False):
            if template.tag != 0x7F60:
                continue
            for item in template.children(der=False):
                if item.tag == 0x5F2E:
                    faces += parse_iso19794_5(item.value)
                elif item.tag == 0x7F2E:
                    faces += parse_iso39794_5(item.value)
        if not faces:
            raise LDSError("DG2 holds no face image")
        return DG2(tuple(faces), raw)
