"""The ``docval`` twistd plugin (``twistd -n docval --config docval.toml``)."""

from twisted.application.service import ServiceMaker

docval = ServiceMaker(
    "DocVal server", "docval_server.tap", "DocVal WebSocket API v2 eMRTD validation server", "docval"
)
