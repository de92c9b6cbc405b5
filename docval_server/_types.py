"""Structural types for what the server takes as parameters (a clock, an HTTP client), so
that ``twisted.internet.task.Clock`` and ``treq.testing.StubTreq`` fit without casts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class Clock(Protocol):
    def callLater(self, delay: float, callable: Callable[..., Any], *args: Any, **kw: Any) -> Any: ...  # noqa: N802

    def seconds(self) -> float: ...


class HTTPClient(Protocol):
    def post(self, url: str, *args: Any, **kwargs: Any) -> Any: ...


class HTTPGetter(Protocol):
    def get(self, url: str, *args: Any, **kwargs: Any) -> Any: ...
