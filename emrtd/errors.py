"""Every error the ``emrtd`` library raises.

All of them subclass :class:`EmrtdError`; each also subclasses the nearest builtin
(``ValueError`` for bad input) so callers that only know the builtins still catch them.
Errors that happen inside a protocol name the failing ``step``.
"""

from __future__ import annotations


class EmrtdError(Exception):
    """Base class of every error raised by :mod:`emrtd`."""

    def __init__(self, message: str, *, step: str | None = None) -> None:
        self.message = message
        self.step = step
        super().__init__(f"{step}: {message}" if step else message)


class TLVError(EmrtdError, ValueError):
    """BER-TLV input is truncated, has trailing bytes, or uses a forbidden encoding."""


class APDUError(EmrtdError, ValueError):
    """A command or response APDU cannot be encoded or decoded."""


class StatusWordError(EmrtdError):
    """The card answered with a status word other than the one the step needs."""

    def __init__(self, sw: int, *, step: str | None = None, meaning: str | None = None) -> None:
        self.sw = sw
        text = f"status word {sw:04X}" + (f" ({meaning})" if meaning else "")
        super().__init__(text, step=step)


class MRZError(EmrtdError, ValueError):
    """An MRZ, a document number, a date or a CAN is malformed or has a wrong check digit."""


class CryptoError(EmrtdError, ValueError):
    """A cryptographic primitive got input it cannot work on (bad key length, bad padding)."""


class SecureMessagingError(EmrtdError):
    """A secure messaging response is malformed or its MAC does not verify."""


class AuthenticationError(EmrtdError):
    """An access-control or authentication protocol (BAC, PACE, CA, AA) failed at ``step``."""


class LDSError(EmrtdError, ValueError):
    """A logical data structure file (EF.COM, a data group, EF.SOD, ...) cannot be parsed."""


class UnsupportedAlgorithmError(LDSError):
    """The file is well formed but names an algorithm or curve this library does not support."""


class ChipSessionError(EmrtdError):
    """The chip failed after access control succeeded (a refused command or broken secure
    messaging): not a problem of the access key."""


class AccessKeyError(AuthenticationError):
    """The chip refused the access key (wrong MRZ data or CAN)."""


class VerificationError(EmrtdError):
    """A signature, hash or certificate check did not pass."""


class TrustStoreError(EmrtdError):
    """A trust store file cannot be loaded: unreadable, malformed, or its signature fails."""
