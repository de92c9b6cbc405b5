"""DG7: displayed signature or usual mark (9303-10 §4.7.7): 67 → 02 count, 5F43 × count."""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import outer, parsing
from .images import ImageFormat, image_format


@dataclass(frozen=True, slots=True)
class SignatureImage:
    format: ImageFormat
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class DG7:
    images: tuple[SignatureImage, ...]
    raw: bytes = field(repr=False)


def parse(raw: bytes) -> DG7:
    top = outer("dg7", raw, 0x67)
    with parsing("dg7"):
        images = tuple(
            SignatureImage(image_format(obj.value), obj.value)
            for obj in top.children(der=False)
            if obj.tag == 0x5F43
        )
        return DG7(images, raw)
