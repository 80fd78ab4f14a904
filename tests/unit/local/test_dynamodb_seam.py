"""Conditional writes under moto are atomic once the seam is installed (as on DynamoDB)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest
from moto import mock_aws
from pynamodb.exceptions import UpdateError

from chalicelib.data.models import Publication, create_tables
from chalicelib.local import dynamodb_seam

THREADS = 8
ROUNDS = 40


@pytest.fixture
def tables() -> Iterator[None]:
    with mock_aws():
        create_tables()
        yield


@pytest.fixture
def tight_switching() -> Iterator[None]:
    """Switch threads every few microseconds so an unguarded read-check-write would interleave."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def claim_winners(publication_id: str) -> int:
    """THREADS threads race the worker's queued -> uploading claim; returns how many won."""
    Publication(publication_id=publication_id, clip_id="clip_1", project_id="proj_1", tenant="t",
                platform="youtube_shorts", account_id="sa_1").save()
    barrier = threading.Barrier(THREADS)
    wins: list[bool] = []

    def claim() -> None:
        pub = Publication.get(publication_id)
        barrier.wait()
        try:
            pub.update(actions=[Publication.status.set("uploading")], condition=(Publication.status == "queued"))
        except UpdateError as exc:
            assert exc.cause_response_code == "ConditionalCheckFailedException"
            wins.append(False)
        else:
            wins.append(True)

    threads = [threading.Thread(target=claim) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == THREADS
    return sum(wins)


def test_the_suite_runs_with_the_seam_installed() -> None:
    assert dynamodb_seam.installed()


def test_exactly_one_conditional_claim_wins(tables, tight_switching) -> None:
    winners = [claim_winners(f"pub_{i}") for i in range(ROUNDS)]
    assert winners == [1] * ROUNDS
    assert {p.status for p in Publication.scan()} == {"uploading"}


def test_install_is_idempotent_and_uninstall_restores_moto() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    wrapped = DynamoDBBackend.update_item
    dynamodb_seam.install()
    assert DynamoDBBackend.update_item is wrapped
    dynamodb_seam.uninstall()
    try:
        assert DynamoDBBackend.update_item is wrapped.__wrapped__
        assert not dynamodb_seam.installed()
    finally:
        dynamodb_seam.install()
    assert dynamodb_seam.installed()
