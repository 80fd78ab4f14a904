"""`klipstar serve`: the whole service in one process, with AWS replaced by moto on loopback.

Started in order: moto's server (DynamoDB, S3, SQS, Step Functions with its executor on), the Lambda
seam that runs the pipeline handlers in-process, the resources created from infra/ definitions, the
SQS-fed workers in background threads, and the Chalice app. State lives in memory only.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from .runtime import STATE_FILE, ServiceError, Worker, reset_cached_clients, write_state

__all__ = ["STATE_FILE", "LocalService", "ServiceError", "free_port", "running_service"]

LOCAL_ACCOUNT = "local"


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def local_environment(moto_port: int, api_port: int) -> dict[str, str]:
    """The environment that points every client at the embedded AWS."""
    endpoint = f"http://127.0.0.1:{moto_port}"
    return {
        "KLIPSTAR_ENV": "local",
        "KLIPSTAR_API_PORT": str(api_port),
        "KLIPSTAR_MOTO_PORT": str(moto_port),
        "KLIPSTAR_DYNAMODB_ENDPOINT_URL": endpoint,
        "KLIPSTAR_S3_ENDPOINT_URL": endpoint,
        "KLIPSTAR_S3_REGION": "us-east-1",
        "KLIPSTAR_SQS_ENDPOINT_URL": endpoint,
        "KLIPSTAR_STEPFUNCTIONS_ENDPOINT_URL": endpoint,
        "KLIPSTAR_TABLE_PREFIX": "klipstar-local-",
        "KLIPSTAR_BUCKET": "klipstar-local",
        "KLIPSTAR_KEY_PEPPER": secrets.token_hex(32),  # keys live only as long as this process
        "KLIPSTAR_TOKEN_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",  # moto accepts any credentials
        "AWS_DEFAULT_REGION": "us-east-1",
        "MOTO_PORT": str(moto_port),  # where moto's Step Functions executor calls Lambda
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "KlipstarLocal",
        "POWERTOOLS_METRICS_DISABLED": "true",  # no CloudWatch here: EMF lines would only be noise
    }


class LocalService:
    """Start/stop the embedded AWS, the pipeline seam, the workers and the API."""

    def __init__(self, api_port: int, moto_port: int, api_key: str | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.api_port = api_port
        self.moto_port = moto_port
        self.api_key = api_key
        self.webhook_secret: str | None = None
        self._stop = threading.Event()
        self._moto: Any = None
        self._api_server: Any = None
        self._threads: list[threading.Thread] = []
        self.workers: list[Worker] = []
        self._saved_env: dict[str, str | None] = {}
        self.exported: dict[str, str] = {}

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def moto_url(self) -> str:
        return f"http://{self.host}:{self.moto_port}"

    # --- start ------------------------------------------------------------------------------------

    def start(self) -> LocalService:
        ports = ((self.api_port, "API", "KLIPSTAR_API_PORT"), (self.moto_port, "AWS", "KLIPSTAR_MOTO_PORT"))
        for port, what, env in ports:
            if not port_is_free(port, self.host):
                raise ServiceError(f"port {port} (the local {what}) is in use: stop what uses it or set {env}")
        for key, value in local_environment(self.moto_port, self.api_port).items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        reset_cached_clients()
        self._start_moto()
        self._provision()
        self._start_workers()
        self._start_api()
        return self

    def _start_moto(self) -> None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ServiceError(f"moto's server is not installed ({exc.name}): run `make setup`") from None
        from .aws import MOTO_CONFIG

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
        # moto's ASL interpreter logs every caught error (and IsPresent misses) at ERROR with a huge
        # repr; failures are recorded on the project and in the handlers' own logs instead.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        self._moto = ThreadedMotoServer(ip_address=self.host, port=self.moto_port, verbose=False)
        self._moto.start()
        response = requests.post(f"{self.moto_url}/moto-api/config", json=MOTO_CONFIG, timeout=10)
        response.raise_for_status()

    def _provision(self) -> None:
        from . import resources

        self.exported = resources.provision_all(self.moto_url)
        self.api_key, self.webhook_secret = resources.ensure_local_key(LOCAL_ACCOUNT, self.api_key)

    def _start_workers(self) -> None:
        from . import resources

        self.workers = resources.local_workers()
        for worker in self.workers:
            thread = threading.Thread(target=worker.run, args=(self._stop,), name=f"worker-{worker.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _start_api(self) -> None:
        from app import app

        from .api_server import make_api_server

        self._api_server = make_api_server(app, self.host, self.api_port)
        thread = threading.Thread(target=self._api_server.serve_forever, name="api", daemon=True)
        thread.start()
        self._threads.append(thread)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base_url}/v1/openapi.json", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise ServiceError(f"the API did not start on {self.base_url}")

    # --- stop -------------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        if self._api_server is not None:
            self._api_server.server.shutdown()
            self._api_server.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._moto is not None:
            from . import lambda_seam

            lambda_seam.uninstall()
            self._moto.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        STATE_FILE.unlink(missing_ok=True)

    def write_state_file(self) -> Path:
        """Record URL, key, signing secret and the embedded AWS's environment (0600, a local dev file) for
        `klipstar webhooks listen` and `klipstar keys … --local`."""
        names = set(local_environment(self.moto_port, self.api_port)) | set(self.exported)
        environment = {name: os.environ[name] for name in sorted(names) if name in os.environ}
        return write_state({"base_url": self.base_url, "api_key": self.api_key, "webhook_secret": self.webhook_secret,
                            "environment": environment})


@contextlib.contextmanager
def running_service(api_port: int | None = None, moto_port: int | None = None) -> Iterator[LocalService]:
    """The local service on the given ports (free ones when None), stopped on exit."""
    service = LocalService(api_port or free_port(), moto_port or free_port())
    service.start()
    try:
        yield service
    finally:
        service.stop()
