"""The server's TOML settings: the example file loads, and each mistake is one ConfigError line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from docval_server import config

ROOT = Path(__file__).resolve().parents[3]


def test_example_config_loads() -> None:
    """examples/docval.toml is valid and resolves paths against its folder."""
    loaded = config.load(ROOT / "examples" / "docval.toml")
    assert loaded.endpoint.startswith("tcp:8765") and "demo" in loaded.clients
    assert loaded.trust_paths == (ROOT / "examples" / "../out/trust",)
    assert loaded.limits.start_timeout == 10.0 and loaded.clients["demo"].headers == {"X-Api-Key": "demo-key"}


BASE: dict[str, Any] = {"trust": {"paths": ["t"]}, "clients": {"a": {"result_url": "http://r/"}}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bogus": {}}, "unknown section"),
        ({"clients": {}}, "no [clients"),
        ({"clients": {"a": {"result_url": "ftp://r/"}}}, "must be an http(s) URL"),
        ({"clients": {"a": {"result_url": "http://r/", "headers": {"X": 1}}}}, "map strings to strings"),
        ({"trust": {"paths": []}}, "trust.paths must list"),
        ({"limits": {"apdu_timeout": -1}}, "limits.apdu_timeout must be positive"),
        ({"limits": {"start_timeout": True}}, "limits.start_timeout must be"),
        ({"server": {"include_files": "yes"}}, "server.include_files must be a bool"),
        ({"signing": {"key_id": "x"}}, "signing.key must name"),
        ({"clients": {"a": {"result_url": "http://r/", "ca_relay": "x"}}}, "clients.a.ca_relay must be one"),
    ],
)
def test_mistakes_are_one_clear_line(change: dict[str, Any], message: str) -> None:
    """Each bad setting is reported with the key it concerns."""
    with pytest.raises(
        config.ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
    ):
        config.parse({**BASE, **change}, Path("/etc/docval"))


def test_unreadable_or_invalid_files(tmp_path: Path) -> None:
    """A missing file or broken TOML is a ConfigError, not a traceback."""
    with pytest.raises(config.ConfigError, match="cannot read"):
        config.load(tmp_path / "missing.toml")
    (tmp_path / "broken.toml").write_text("[server\n")
    with pytest.raises(config.ConfigError, match="not valid TOML"):
        config.load(tmp_path / "broken.toml")


def test_ca_relay_per_client() -> None:
    """``clients.<id>.ca_relay`` overrides the platform rule; "auto" is the default and not stored."""
    loaded = config.parse(
        {
            **BASE,
            "clients": {
                "a": {"result_url": "http://r/", "ca_relay": "sequential"},
                "b": {"result_url": "http://r/", "ca_relay": "one_flight"},
                "c": {"result_url": "http://r/"},
            },
        },
        Path("/etc/docval"),
    )
    assert loaded.ca_relay == {"a": "sequential", "b": "one_flight"}
