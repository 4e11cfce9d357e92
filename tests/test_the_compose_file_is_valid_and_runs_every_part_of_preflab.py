"""docker/compose.yaml: Debian's docker-compose accepts it, and it runs what PrefLab needs.

No Docker engine is needed: ``config -q`` only reads and validates the file. CI (env CI set)
must have docker-compose (``make system-deps`` installs it); elsewhere its absence skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker" / "compose.yaml"


def docker_compose() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is not installed (CI must check the compose file)")
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    return path


def compose_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """docker-compose's own validation of the file (``config -q``) in this environment."""
    return subprocess.run(
        [docker_compose(), "-f", str(COMPOSE), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def compose_config() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def test_docker_compose_accepts_the_compose_file() -> None:
    result = compose_check({**os.environ, "SECRET_KEY": "test-only-secret"})
    assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_to_run_without_a_secret_key() -> None:
    result = compose_check({k: v for k, v in os.environ.items() if k != "SECRET_KEY"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_the_compose_file_runs_every_part_of_preflab() -> None:
    services = compose_config()["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "gpu-worker"} <= services.keys()
    assert services["postgres"]["image"].startswith("postgres:16")
    assert "healthcheck" in services["postgres"]
    assert services["redis"]["image"].startswith("redis:7")
    assert "--appendonly" in services["redis"]["command"]
    assert services["migrate"]["command"][:3] == ["python", "manage.py", "migrate"]
    assert "uvicorn" in services["web"]["command"]
    worker = services["worker"]["command"]
    assert worker[worker.index("-Q") + 1] == "default"
    for name in ("migrate", "web", "worker", "gpu-worker"):
        env = services[name]["environment"]
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:6379")
        assert "SECRET_KEY" in env


def test_the_gpu_worker_reserves_a_gpu_and_stays_out_of_cpu_hosts() -> None:
    gpu = compose_config()["services"]["gpu-worker"]
    assert gpu["command"][gpu["command"].index("-Q") + 1] == "gpu"
    assert gpu["profiles"] == ["gpu"]
    assert gpu["build"]["args"]["TORCH_VARIANT"] != "cpu"
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]} in devices


def test_the_image_builds_torch_from_the_variant_it_is_given() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "ARG TORCH_VARIANT=cpu" in dockerfile
    assert "download.pytorch.org/whl/${TORCH_VARIANT}" in dockerfile
    assert "\nUSER " in dockerfile
    assert "PREFLAB_HOME=/data" in dockerfile
