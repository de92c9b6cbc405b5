"""The deployment examples are consistent with the server they deploy: the Kubernetes
manifests parse, probe /health, give more termination grace than the server's own
shutdown_grace, and carry a server configuration our parser accepts; the container recipe
installs the wheel and runs docval-server. (No container daemon or cluster runs here: the
image is not built and the manifests are not applied; `kubectl kustomize` renders them when
kubectl is present.)"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import yaml

from docval_server import config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _documents() -> dict[str, Any]:
    docs = list(yaml.safe_load_all((EXAMPLES / "kubernetes" / "docval.yaml").read_text()))
    return {doc["kind"]: doc for doc in docs}


def test_kubernetes_manifests_match_the_server() -> None:
    """Probes on /health; termination grace above shutdown_grace; the embedded docval.toml is a
    valid server configuration; the Service targets the WebSocket port."""
    docs = _documents()
    server_config = config.parse(tomllib.loads(docs["ConfigMap"]["data"]["docval.toml"]), Path("/etc/docval"))
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert pod["terminationGracePeriodSeconds"] > server_config.shutdown_grace
    assert server_config.admin_endpoint.endswith(":9100") and server_config.trust_reload_interval > 0
    assert docs["Service"]["spec"]["ports"][0]["targetPort"] == "ws"
    if shutil.which("kubectl"):
        rendered = subprocess.run(
            ["kubectl", "kustomize", str(EXAMPLES / "kubernetes")], capture_output=True, text=True, timeout=60
        )
        assert rendered.returncode == 0 and "kind: Deployment" in rendered.stdout, rendered.stderr


def test_container_recipe_installs_the_wheel_and_runs_the_server() -> None:
    """The Containerfile installs the wheel alone, drops root and starts docval-server."""
    recipe = (EXAMPLES / "container" / "Containerfile").read_text()
    assert "pip install --no-cache-dir /tmp/docval-*.whl" in recipe
    assert "USER docval" in recipe and 'ENTRYPOINT ["docval-server"' in recipe
