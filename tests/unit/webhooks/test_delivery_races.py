"""Races in the dispatcher, forced: a gate holds each caller between reading the row and claiming it.

Without the lease's condition both concurrent deliveries POST; without the row-exists conditions a
delivery deleted meanwhile (its project was deleted) is written back as a row with no tenant or TTL.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib.data.models import Project, WebhookDelivery
from chalicelib.webhooks import dispatcher, events
from tests.unit.pipeline.awsenv import Receiver, make_account

pytestmark = pytest.mark.usefixtures("clean_queue")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rcv = Receiver().start()
    yield rcv
    rcv.stop()


@pytest.fixture(autouse=True)
def tight_switching() -> Iterator[None]:
    """Switch threads as often as possible, so unguarded interleavings show up."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.fixture
def event_id(world: Any, receiver: Receiver, request: pytest.FixtureRequest) -> str:
    make_account("racer", "whsec_" + "QUJD" * 8)
    pid = "proj_race_" + request.node.name[-12:]
    project = Project(pid, tenant="racer#test", account_id="racer", webhook_url=receiver.url, status="completed")
    project.save()
    ident = events.enqueue(project, "project.failed", {"event": "project.failed", "project_id": pid})
    assert ident is not None
    return ident


def gate_after_read(monkeypatch: pytest.MonkeyPatch, parties: int, then: Callable[[], None] | None = None) -> None:
    """The first `parties` reads in deliver() wait for each other (and run `then`) before going on to claim."""
    barrier = threading.Barrier(parties, action=then, timeout=20)
    original = WebhookDelivery.get
    calls = {"n": 0}
    lock = threading.Lock()

    def gated(*args: Any, **kwargs: Any) -> WebhookDelivery:
        row = original(*args, **kwargs)
        with lock:
            calls["n"] += 1
            mine = calls["n"]
        if mine <= parties:
            barrier.wait()
        return row

    monkeypatch.setattr(dispatcher.WebhookDelivery, "get", gated)


def run_together(count: int, target: Callable[[], Any]) -> list[Any]:
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        results[i] = target()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_deliveries_of_one_event_send_once(event_id: str, receiver: Receiver,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    gate_after_read(monkeypatch, 3)
    outcomes = run_together(3, lambda: dispatcher.deliver(event_id))
    monkeypatch.undo()
    assert len(receiver.received) == 1  # one POST, however many workers held the same message
    row = WebhookDelivery.get(event_id, consistent_read=True)
    assert len(row.attempts) == len(receiver.received)  # the log counts every POST
    assert row.status == "delivered" and row.lease_until is None
    assert sorted(o.status for o in outcomes).count("delivered") >= 1
    assert all(o.status in {"delivered", "retry"} for o in outcomes)


def test_every_post_is_logged_even_after_a_lost_lease(event_id: str, receiver: Receiver,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    receiver.statuses = [500, 500]
    original = dispatcher.attempt

    def slow_attempt(delivery: WebhookDelivery, secrets: list[str]) -> dict[str, Any]:
        record = original(delivery, secrets)
        # the lease runs out while this attempt is still finishing; another worker takes over and POSTs
        delivery.refresh(consistent_read=True)
        delivery.update(actions=[WebhookDelivery.lease_until.set(time.time() - 1)])
        monkeypatch.setattr(dispatcher, "attempt", original)
        assert dispatcher.deliver(delivery.event_id).status == "retry"
        return record

    monkeypatch.setattr(dispatcher, "attempt", slow_attempt)
    assert dispatcher.deliver(event_id).status == "retry"
    row = WebhookDelivery.get(event_id, consistent_read=True)
    assert len(receiver.received) == 2 and len(row.attempts) == 2
    assert row.lease_until is None  # the takeover released its lease; the late attempt left it alone


def test_a_delivery_deleted_during_the_post_is_not_recreated(event_id: str, receiver: Receiver,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    original = dispatcher.attempt

    def deleting_attempt(delivery: WebhookDelivery, secrets: list[str]) -> dict[str, Any]:
        WebhookDelivery.get(delivery.event_id).delete()  # DELETE /v1/projects/{id} ran meanwhile
        return original(delivery, secrets)

    monkeypatch.setattr(dispatcher, "attempt", deleting_attempt)
    assert dispatcher.deliver(event_id).status == "missing"
    assert len(receiver.received) == 1
    with pytest.raises(WebhookDelivery.DoesNotExist):
        WebhookDelivery.get(event_id, consistent_read=True)


@pytest.mark.parametrize("status", [500, 200])
def test_a_delivery_deleted_before_the_claim_is_not_sent_nor_recreated(
    event_id: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    receiver.statuses = [status]
    gate_after_read(monkeypatch, 1, then=lambda: WebhookDelivery(event_id).delete())
    assert dispatcher.deliver(event_id).status == "missing"
    monkeypatch.undo()
    assert receiver.received == []
    with pytest.raises(WebhookDelivery.DoesNotExist):
        WebhookDelivery.get(event_id, consistent_read=True)
    with pytest.raises(WebhookDelivery.DoesNotExist):  # nor does a resend bring it back
        dispatcher.resend(event_id)


def test_a_held_lease_defers_until_it_expires(event_id: str, receiver: Receiver) -> None:
    row = WebhookDelivery.get(event_id)
    row.update(actions=[WebhookDelivery.lease_until.set(time.time() + 40), WebhookDelivery.lease_token.set("other")])
    outcome = dispatcher.deliver(event_id)
    assert outcome.status == "retry" and 30 <= outcome.delay <= 41 and receiver.received == []
    row.update(actions=[WebhookDelivery.lease_until.set(time.time() - 1)])  # the holder crashed; its lease ran out
    assert dispatcher.deliver(event_id).status == "delivered" and len(receiver.received) == 1
