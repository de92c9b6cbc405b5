"""emrtd: ICAO Doc 9303 electronic passports in pure Python (no I/O).

The public API is the modules in :data:`__all__`; everything else, and every name that starts
with an underscore, is internal and may change without notice.

ICAO 9303 (no DocVal knowledge):
    ``apdu``, ``tlv``, ``mrz``, ``crypto``, ``sm``, ``exchange``, ``interfaces`` (``Card``,
    ``RandomSource``), ``reader``, ``access`` (``open_document``), ``bac``, ``pace``,
    ``chipauth``, ``activeauth``, ``passiveauth``, ``truststore``, ``extended_length``,
    ``lds`` (parsers of every LDS file), ``errors``.
The DocVal v2 protocol as data:
    ``docval`` (``reasons``, ``wire``, ``verdict``, ``result``).
Tests and demos:
    ``sim`` (the virtual passport, its profiles, fault modes and test PKI; the pytest plugin
    ``emrtd.sim.pytest_plugin``), ``testing`` (``ScriptedCard``, ``fixed_random``).

The library speaks to a chip through sans-I/O *exchanges* (generators of command APDUs, see
:mod:`emrtd.exchange`); a :class:`emrtd.interfaces.Card` answers them (the virtual chip, a
PC/SC reader in ``docval_client.card``, a scripted card).
"""

__version__ = "0.1.0"

__all__ = [
    "access",
    "activeauth",
    "apdu",
    "bac",
    "chipauth",
    "crypto",
    "docval",
    "errors",
    "exchange",
    "extended_length",
    "interfaces",
    "lds",
    "mrz",
    "pace",
    "passiveauth",
    "reader",
    "sim",
    "sm",
    "testing",
    "tlv",
    "truststore",
]
