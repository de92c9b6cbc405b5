"""Recognising the image formats stored on eMRTDs."""

from __future__ import annotations

from typing import Literal

from ..errors import LDSError

ImageFormat = Literal["JPEG", "JPEG2000"]

_JP2_SIGNATURE = bytes.fromhex("0000000C6A5020200D0A870A")
_J2K_CODESTREAM = bytes.fromhex("FF4FFF51")


def image_format(data: bytes) -> ImageFormat:
    """JPEG or JPEG 2000 (JP2 file or bare codestream), by the image's own signature."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:12] == _JP2_SIGNATURE or data[:4] == _J2K_CODESTREAM:
        return "JPEG2000"
    raise LDSError("image is neither JPEG nor JPEG 2000")
