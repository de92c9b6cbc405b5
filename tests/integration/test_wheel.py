"""What a user installs works as installed: the wheel, built from this checkout and installed
alone into a fresh virtual environment (dependencies from the package index), runs the
server as a twistd plugin and as ``docval-server``, and its client validates a virtual
passport through pcscd against it."""

from __future__ import annotations

import subprocess
import sys
import venv
from collections.abc import Iterator
from typing import Any

import pytest

from .pcsc import vpcd_readers
from .test_server import ROOT, free_port, start_result_server, wait_http

pytestmark = pytest.mark.pcsc


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A venv holding only the wheel (and its dependencies), outside the checkout."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder / "dist"), str(ROOT)],
        check=True,
        timeout=300,
    )
    (wheel,) = (folder / "dist").glob("docval-*.whl")
    venv.create(folder / "venv", with_pip=True)
    bin_ = folder / "venv" / "bin"
    subprocess.run([str(bin_ / "pip"), "install", "-q", str(wheel)], check=True, timeout=600, cwd=folder)
    yield {"folder": folder, "bin": bin_, "wheel": wheel}


def test_wheel_ships_the_plugin_and_entry_points(fresh: dict[str, Any]) -> None:
    """twistd lists the docval plugin; the console scripts and python -m entry points run."""
    bin_ = fresh["bin"]
    listed = subprocess.run(
        [str(bin_ / "twistd"), "--help"], capture_output=True, text=True, cwd=fresh["folder"]
    )
    assert "docval" in listed.stdout, listed.stdout
    for command in (["docval-client", "--help"], ["docval-sim", "--list"], ["docval-server", "--help"]):
        done = subprocess.run(
            [str(bin_ / command[0]), *command[1:]],
            capture_output=True,
            text=True,
            cwd=fresh["folder"],
            timeout=120,
        )
        assert done.returncode == 0, (command, done.stderr)
    for module in ("docval_client", "docval_server", "emrtd.sim"):
        done = subprocess.run(
            [str(bin_ / "python"), "-m", module, "--help"],
            capture_output=True,
            text=True,
            cwd=fresh["folder"],
            timeout=120,
        )
        assert done.returncode == 0, (module, done.stderr)


def test_installed_server_validates_a_passport(fresh: dict[str, Any]) -> None:
    """From the fresh venv only: trust store, twistd -n docval, /health, and one validation of
    the virtual passport through pcscd with the installed client (VALID, exit 0)."""
    vpcd_readers()
    bin_, folder = fresh["bin"], fresh["folder"]
    subprocess.run(
        [str(bin_ / "docval-sim"), "--write-trust-store", str(folder / "trust")],
        check=True,
        timeout=120,
        capture_output=True,
    )
    result_port, port = free_port(), free_port()
    (folder / "relying-party").mkdir()  # the relying party's result server (not part of the wheel)
    results = start_result_server(folder / "relying-party", result_port)
    (folder / "docval.toml").write_text(f"""
[server]
endpoint = "tcp:{port}:interface=127.0.0.1"
[trust]
paths = ["trust"]
[clients.wheel]
result_url = "http://127.0.0.1:{result_port}/results"
""")
    server = subprocess.Popen(
        [str(bin_ / "twistd"), "-n", "--pidfile=", "docval", "--config", "docval.toml"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sim = subprocess.Popen(
        [str(bin_ / "docval-sim"), "--profile", "utopia"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/health", timeout=30)
        done = subprocess.run(
            [
                str(bin_ / "docval-client"),
                "read",
                "--server",
                f"ws://127.0.0.1:{port}/ws2/validate",
                "--client-id",
                "wheel",
                "--reader",
                "Virtual PCD",
                "--wait",
                "30",
                "--document-number",
                "UT1234567",
                "--birth",
                "900315",
                "--expiry",
                "340415",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=folder,
        )
        assert done.returncode == 0 and "VALID" in done.stdout, (done.stdout, done.stderr)
    finally:
        for proc in (sim, server, results):
            proc.terminate()
            proc.wait(timeout=20)
