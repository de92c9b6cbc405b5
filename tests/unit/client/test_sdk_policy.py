"""The local SDK's trust model (``docval_client.sdk_policy``): which origins may connect, which
DocVal servers each may use, what needs the user's confirmation, what the app gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from docval_client import sdk_policy
from docval_client.sdk_policy import DEFAULT_POLICY, AppRule, PolicyError, ServerRule

KIOSK = """
confirm_timeout = 20

[[app]]
origin = "https://shop.example"
send_result = true
[[app.server]]
url = "wss://docval.example/ws2/validate"
ca_file = "/etc/docval/ca.pem"
approved = true

[[app]]
origin = "null"
[[app.server]]
url = "ws://127.0.0.1:8765/ws2/validate"
"""


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:8000", True),
        ("http://127.0.0.1:3000", True),
        ("http://[::1]:8080", True),
        ("http://localhost", True),
        (None, True),  # a native app
        ("http://127.0.0.2:8000", False),  # loopback too, but not a page the user starts here
        ("https://localhost:8000", False),
        ("http://evil.example", False),
        ("http://localhost.evil.example:8000", False),
        ("http://127.0.0.1:8000@evil.example", False),
        ("null", False),  # file:// pages only when configured
        ("", False),
    ],
)
def test_default_origins(origin: str | None, allowed: bool) -> None:
    """By default only pages served from this machine over http, and native apps, may connect."""
    assert (DEFAULT_POLICY.app(origin) is not None) is allowed


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("ws://127.0.0.1:8765/ws2/validate", True),
        ("ws://localhost:9000/ws2/validate", True),
        ("ws://[::1]:8765/ws2/validate", True),
        ("ws://127.0.0.1:8765/ws2/validate?x=1", False),
        ("ws://127.0.0.1:8765/other", False),
        ("ws://127.0.0.1:80@rogue.example/ws2/validate", False),
        ("ws://rogue.example:8765/ws2/validate", False),
        ("wss://rogue.example/ws2/validate", False),
        ("ws://127.0.0.1:*/ws2/validate", False),
        ("not a url", False),
    ],
)
def test_default_servers(url: str, allowed: bool) -> None:
    """By default pages may use DocVal servers on this machine only, never without confirmation."""
    app = DEFAULT_POLICY.app("http://localhost:8000")
    assert app is not None and app.send_result is False
    rule = app.server(url)
    assert (rule is not None) is allowed
    if rule is not None:
        assert rule.approved is False


def test_kiosk_file() -> None:
    """A configuration file: its apps only, per-app servers with CA, pre-approval, passport grant."""
    policy = sdk_policy.parse(KIOSK, "sdk.toml")
    assert policy.confirm_timeout == 20 and policy.app("http://localhost:8000") is None
    shop = policy.app("https://shop.example")
    assert shop is not None and shop.send_result
    server = shop.server("wss://docval.example/ws2/validate")
    assert server is not None and server.approved
    assert server.tls_identity() == "certificate verified with /etc/docval/ca.pem"
    assert shop.server("wss://docval.example:8443/ws2/validate") is None  # another port
    files = policy.app("null")
    assert files is not None and files.server("ws://127.0.0.1:8765/ws2/validate") is not None
    assert files.server("ws://127.0.0.1:8766/ws2/validate") is None
    assert policy.allowing(["http://localhost:5173"]).app("http://localhost:5173") is not None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('[[app]]\norigin = "https://a.example"\n[[app.server]]\nurl = "ws://docval.example/ws2/validate"',
         "a server not on this machine must be wss://"),
        ('[[app]]\norigin = "https://a.example/path"', "an origin has no path"),
        ('[[app]]\norigin = "ftp://a.example"', "give http/https://host[:port]"),
        ('[[app]]\norigin = "https://a.example"\nsend_result = "yes"', "send_result must be true or false"),
        ('[[app]]\norigin = "https://a.example"\ncolour = 1', "unknown setting 'colour'"),
        ("confirm_timeout = 0", "confirm_timeout must be 1 to 3600 seconds"),
        ("app = 1", "app must be a list of tables"),
        ("[[app]", "sdk.toml: "),
    ],
)
def test_configuration_errors_name_the_file_and_entry(text: str, error: str) -> None:
    """A wrong configuration is one PolicyError naming sdk.toml and what to fix."""
    with pytest.raises(PolicyError) as raised:
        sdk_policy.parse(text, "sdk.toml")
    assert raised.value.message.startswith("sdk.toml: ") and error in raised.value.message


def test_load_from_the_config_directory(tmp_path: Path) -> None:
    """$XDG_CONFIG_HOME/docval/sdk.toml is read; without it the defaults; a given file must exist."""
    env = {"XDG_CONFIG_HOME": str(tmp_path), "HOME": "/nonexistent"}
    assert sdk_policy.load(environ=env) is DEFAULT_POLICY
    (tmp_path / "docval").mkdir()
    (tmp_path / "docval" / "sdk.toml").write_text(KIOSK)
    loaded = sdk_policy.load(environ=env)
    assert loaded.source.endswith("docval/sdk.toml") and loaded.app("https://shop.example") is not None
    with pytest.raises(PolicyError, match="no such file"):
        sdk_policy.load(tmp_path / "missing.toml")


def test_rules_check_themselves() -> None:
    """Rules built in code are checked like the file's: ws:// off this machine is refused."""
    with pytest.raises(PolicyError):
        ServerRule("ws://docval.example/ws2/validate")
    with pytest.raises(PolicyError):
        ServerRule("ws://127.0.0.1:8765/ws2/validate", ca_file="ca.pem")
    assert AppRule("none", ()).matches("none") and not AppRule("none", ()).matches("null")


def test_server_headers_and_authorization(tmp_path: Path) -> None:
    """A server entry may carry handshake headers and an Authorization value; line breaks are refused."""
    config = tmp_path / "sdk.toml"
    config.write_text(
        '[[app]]\norigin = "http://localhost:*"\n[[app.server]]\nurl = "wss://docval.example/ws2/validate"\n'
        'authorization = "Bearer t"\nheaders = { "X-Api-Key" = "k" }\n'
    )
    rule = sdk_policy.load(config).apps[0].servers[0]
    assert dict(rule.headers) == {"Authorization": "Bearer t", "X-Api-Key": "k"}
    config.write_text(
        '[[app]]\norigin = "http://localhost:*"\n[[app.server]]\nurl = "wss://docval.example/ws2/validate"\n'
        'authorization = "Bearer t\\r\\nX: y"\n'
    )
    with pytest.raises(sdk_policy.PolicyError, match="one-line"):
        sdk_policy.load(config)
