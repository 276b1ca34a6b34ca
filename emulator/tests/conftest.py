"""Fidelity tests: one emulator per test session, driven through boto3 as AWS would be."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def endpoint():
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # The server logs a line per request: into a file, as a pipe nobody reads would fill and
    # block it.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sitewarden_emulator", "--port", str(port), "--parent-pid", str(os.getpid())],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"emulator exited: {log.read().decode(errors='replace')}")
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("emulator not ready after 30 s")
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def aws(endpoint):
    """`aws("s3", region="eu-west-1")` → a boto3 client bound to the emulator."""

    def make(service: str, region: str = "us-east-1", **config):
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}, **config),
        )

    return make


@pytest.fixture
def uid():
    """A unique, DNS-safe suffix so tests never share resources."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def account(endpoint):
    """A fresh account of its own: `account.id`, and `account.client("iam")` bound to it (moto's
    `x-moto-account-id` header), so that account-wide names (an OIDC provider's URL) never clash."""

    class Account:
        id = str(uuid.uuid4().int)[:12].rjust(12, "1")

        def client(self, service: str, region: str = "us-east-1"):
            client = boto3.client(
                service,
                region_name=region,
                endpoint_url=endpoint,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=Config(retries={"max_attempts": 1}),
            )
            client.meta.events.register(
                "before-sign.*.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", self.id)
            )
            return client

    return Account()
