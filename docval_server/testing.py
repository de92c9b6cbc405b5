"""The desktop client session against the server session, in memory (shipped like
``treq.testing``): a whole DocVal v2 validation without sockets, PC/SC or a result server.

Both sides are sans-I/O, so one loop carries the client's requests to a card and to the
server, and the server's effects back: messages to the client, the result POST (answered
``ok`` or not, as asked), timers (ignored: nothing waits in memory). Used by the test suite
and by the ``docval_pair`` fixture of the pytest plugin (:mod:`emrtd.sim.pytest_plugin`)::

    from docval_client.session import Options
    from docval_server.testing import validate_in_memory
    from emrtd.sim import VirtualChip, profiles

    chip = VirtualChip(profiles.load("utopia"))
    run = validate_in_memory(chip, Options("v-1", "client-1", chip.config.mrz_key), trust=trust)
    assert run.outcome.passport["passiveAuthentication"]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from docval_client.session import (
    Closed,
    FromServer,
    NeedAccessKey,
    Options,
    Outcome,
    Progress,
    ToChip,
    ToServer,
    validation,
)
from emrtd.docval import wire
from emrtd.interfaces import Card, RandomSource
from emrtd.mrz import AccessKey
from emrtd.truststore import TrustStore

from .session import CloseConnection, Limits, PostResult, Send, ServerSession


@dataclass
class InMemoryValidation:
    """What happened: the client's outcome, the bodies POSTed to the result server, the
    messages the client sent, its progress events, and both interleaved as they came."""

    outcome: Outcome
    posts: list[dict[str, Any]] = field(default_factory=list)
    sent: list[wire.TextMessage | wire.BinaryMessage] = field(default_factory=list)
    progress: list[Progress] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    server: ServerSession | None = field(default=None, repr=False)


def validate_in_memory(
    card: Card,
    options: Options,
    *,
    trust: TrustStore,
    client_ids: Iterable[str] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    random: RandomSource = os.urandom,
    limits: Limits | None = None,
    post_ok: bool = True,
    new_keys: Iterable[AccessKey | None] = (),
) -> InMemoryValidation:
    """Run one validation of ``card`` with the client ``options`` against a server trusting
    ``trust``. ``client_ids`` are the ids the server knows (default: the client's own);
    ``post_ok`` is how the result POST ends; ``new_keys`` answer the client's requests for
    another access key (with ``options.retry_access_key``), None giving up."""
    known = set(client_ids) if client_ids is not None else {options.client_id}
    server = ServerSession(
        known_clients=known.__contains__, trust=trust, random=random, now=now, limits=limits or Limits()
    )
    client = validation(options)
    keys = iter(new_keys)
    inbox: list[Any] = []
    run = InMemoryValidation(Outcome(""), server=server)

    def deliver(effects: list[Any]) -> None:
        for effect in effects:
            if isinstance(effect, Send):
                inbox.append(effect.message)
            elif isinstance(effect, CloseConnection):
                inbox.append(Closed(effect.reason.code, effect.reason.value))
            elif isinstance(effect, PostResult):
                run.posts.append(effect.body)
                deliver(server.post_finished(post_ok))

    def to_server(message: wire.TextMessage | wire.BinaryMessage) -> None:
        run.sent.append(message)
        run.events.append(message)
        if isinstance(message, wire.Close):  # the client closes: the connection is gone
            deliver(server.connection_lost())
        elif isinstance(message, wire.FileMessage | wire.ApduMessage):
            deliver(server.receive_binary(message.serialize()))
        else:
            deliver(server.receive_text(wire.serialize_text(message)))

    deliver(server.connected())
    try:
        request = next(client)
        while True:
            if isinstance(request, ToChip):
                answer: Any = card.transmit_raw(request.command)
            elif isinstance(request, ToServer):
                to_server(request.message)
                answer = None
            elif isinstance(request, FromServer):
                answer = inbox.pop(0) if inbox else Closed(1006, "")
            elif isinstance(request, NeedAccessKey):
                answer = next(keys, None)
            else:
                run.progress.append(request)
                run.events.append(request)
                answer = None
            request = client.send(answer)
    except StopIteration as done:
        run.outcome = done.value
    return run


__all__ = ["InMemoryValidation", "validate_in_memory"]
