"""emrtd: ICAO Doc 9303 electronic passports in pure Python (no I/O).

The library speaks to a chip through sans-I/O *exchanges* (generators of command APDUs, see
:mod:`emrtd.exchange`); drivers for real readers live in ``docval_client``.
"""

__version__ = "0.1.0"
