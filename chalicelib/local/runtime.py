"""What the local service's modules share (no imports of theirs): workers, client resets, the state file.

`klipstar serve` writes the state file (0600) with its URL, key, signing secret and the environment that
points at its embedded AWS; `attach_to_running_service()` lets another process (e.g. `klipstar keys
create --local`) use that same embedded AWS and key pepper, so the keys it mints work on the server.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.errors import EngineError

STATE_FILE = Path(".klipstar") / "local.json"


class ServiceError(EngineError):
    """A local-service problem a first-time user can fix (port in use, missing dependency...)."""

    code = "local_service_error"


def reset_cached_clients() -> None:
    """Forget every cached settings object and AWS client so new endpoints take effect."""
    from ..data import aws, models, storage
    from ..settings import get_settings

    get_settings.cache_clear()
    storage.s3_client.cache_clear()
    models.bind_models()
    aws.reset_clients()


@dataclass
class Worker:
    """A background loop polling one SQS queue (or a timer) until the service stops."""

    name: str
    poll: Callable[[], Any]
    interval: float = 0.5

    def run(self, stop: threading.Event) -> None:
        from ..observability import get_logger

        logger = get_logger("klipstar-local")
        while not stop.is_set():
            try:
                self.poll()
            except Exception:  # a worker must outlive one bad message
                logger.exception("local worker failed", extra={"worker": self.name})
            stop.wait(self.interval)


def write_state(state: dict[str, Any], path: Path = STATE_FILE) -> Path:
    """Write the state file readable by its owner only (it holds the key pepper and a test key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(state, fh)
    path.chmod(0o600)
    return path


def read_state(path: Path = STATE_FILE) -> dict[str, Any]:
    """The running service's state; ServiceError when no `klipstar serve` runs from this directory."""
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        raise ServiceError(f"no running `klipstar serve` found ({path} is missing): start it here first") from None


def attach_to_running_service(path: Path = STATE_FILE) -> dict[str, Any]:
    """Point this process's settings and AWS clients at the running service's embedded AWS and pepper."""
    state = read_state(path)
    environment = state.get("environment")
    if not isinstance(environment, dict):
        raise ServiceError(f"{path} was written by an older `klipstar serve`: restart it")
    os.environ.update({str(k): str(v) for k, v in environment.items()})
    reset_cached_clients()
    return state
