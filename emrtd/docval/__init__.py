"""The DocVal WebSocket API v2 as data: the one home of DocVal product knowledge.

* :mod:`emrtd.docval.reasons` — the close-reason table (one enum, phrase and close code);
* :mod:`emrtd.docval.wire` — the messages, strict parsing and serialization, ``WireFormatError``;
* :mod:`emrtd.docval.verdict` — the one verdict function (trust order) and the VALID rule;
* :mod:`emrtd.docval.result` — building the ``passport`` result object.

``docval_server`` and ``docval_client`` (online and offline) share these modules. The ICAO
modules of :mod:`emrtd` (``passiveauth``, ``chipauth``, ``activeauth``, ``lds`` …) import
nothing from here; this package builds on them.
"""

from . import reasons, result, verdict, wire
from .reasons import CloseReason
from .verdict import CheckResult, validated
from .wire import WireFormatError

__all__ = [
    "CheckResult", "CloseReason", "WireFormatError", "reasons", "result", "validated", "verdict", "wire",
]
