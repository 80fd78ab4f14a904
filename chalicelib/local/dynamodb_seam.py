"""Make moto's DynamoDB conditional writes atomic, as they are on DynamoDB.

moto's `DynamoDBBackend.update_item` (and put/delete/transact) reads the item, evaluates the
ConditionExpression and then writes, with no lock. Two threads in one process (the local service's
publish worker and its scheduler, or the SQS worker and an API request) can both pass the same
`status = queued` condition, which on DynamoDB is impossible. Every guard in Klipstar that relies on a
conditional write (the publish claim, account concurrency slots, idempotency keys, delivery claims)
would then be weaker locally than in production.

`install()` wraps the backend's item operations in one process-wide lock, so each is a single atomic
step. `local.aws.provision` installs it (with the Lambda seam) before creating any table, for the local
service and the pipeline tests alike; the test suite also installs it for every other moto-backed test.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

ITEM_OPERATIONS = ("put_item", "update_item", "delete_item", "transact_write_items", "get_item", "query", "scan")

_lock = threading.RLock()
_originals: dict[str, Callable[..., Any]] = {}


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(self, *args, **kwargs)

    return locked


def install() -> None:
    """Serialize moto's DynamoDB item operations (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    with _lock:
        if _originals:
            return
        for name in ITEM_OPERATIONS:
            original = getattr(DynamoDBBackend, name)
            _originals[name] = original
            setattr(DynamoDBBackend, name, _serialized(original))


def uninstall() -> None:
    """Put moto's own methods back."""
    from moto.dynamodb.models import DynamoDBBackend

    with _lock:
        for name, original in _originals.items():
            setattr(DynamoDBBackend, name, original)
        _originals.clear()


def installed() -> bool:
    return bool(_originals)
