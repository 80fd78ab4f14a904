"""Nothing stays "processing": MarkFailed records the error and frees the slot; the sweeper catches the rest."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import boto3

from chalicelib.data import quotas
from chalicelib.data.models import Project, WebhookDelivery, utcnow
from chalicelib.pipeline import mark_failed, sweeper
from tests.unit.pipeline.awsenv import make_account, make_project

WAIT = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}})


def _wait_machine() -> str:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    role = boto3.client("iam", region_name="us-east-1").get_role(RoleName="klipstar-local-lambda")["Role"]["Arn"]
    for m in sfn.list_state_machines()["stateMachines"]:
        if m["name"] == "sweeper-wait":
            return m["stateMachineArn"]
    return sfn.create_state_machine(name="sweeper-wait", definition=WAIT, roleArn=role)["stateMachineArn"]


def test_mark_failed_records_code_frees_slot_and_queues_project_failed(world: Any) -> None:
    make_account("failco", "whsec_x")
    make_project("proj_mf1", tenant="failco#live", webhook_url="http://127.0.0.1:9/hook")
    assert quotas.in_flight("failco") == 1
    cause = json.dumps({"errorType": "NotMedia", "errorMessage": "the file is not a video\nTraceback..."})
    out = mark_failed.handler({"project_id": "proj_mf1", "tenant": "failco#live",
                               "error": {"Error": "NotMedia", "Cause": cause}})
    assert out["error"] == {"code": "not_media", "message": "the file is not a video"}
    p = Project.get("proj_mf1")
    assert (p.status, p.stage, p.error.code, p.error.message) == ("failed", "failed", "not_media",
                                                                  "the file is not a video")
    assert quotas.in_flight("failco") == 0
    deliveries = list(WebhookDelivery.by_project.query("proj_mf1"))
    assert [d.event_type for d in deliveries] == ["project.failed"]
    assert deliveries[0].payload["error"] == {"code": "not_media", "message": "the file is not a video"}
    # a second failure report (e.g. the sweeper racing MarkFailed) changes nothing and frees nothing twice
    mark_failed.handler({"project_id": "proj_mf1", "tenant": "failco#live", "error": {"Error": "States.Timeout"}})
    assert Project.get("proj_mf1").error.code == "not_media" and quotas.in_flight("failco") == 0
    assert len(list(WebhookDelivery.by_project.query("proj_mf1"))) == 1


def test_sweeper_fails_projects_whose_execution_ended_or_vanished(world: Any) -> None:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = _wait_machine()
    make_account("sweepco", "whsec_y")
    running = sfn.start_execution(stateMachineArn=machine, name="sw-running")["executionArn"]
    stopped = sfn.start_execution(stateMachineArn=machine, name="sw-stopped")["executionArn"]
    deadline = time.monotonic() + 10
    while sfn.describe_execution(executionArn=stopped)["status"] != "ABORTED" and time.monotonic() < deadline:
        sfn.stop_execution(executionArn=stopped)  # moto's executor thread may still be starting up
        time.sleep(0.2)
    old = utcnow() - timedelta(minutes=30)
    make_project("proj_sw_run", tenant="sweepco#live", execution_arn=running)
    make_project("proj_sw_stop", tenant="sweepco#live", execution_arn=stopped)
    make_project("proj_sw_lost", tenant="sweepco#live", execution_arn=machine.replace(
        ":stateMachine:", ":execution:") + ":never-existed")
    make_project("proj_sw_nostart", tenant="sweepco#live", created_at=old)
    make_project("proj_sw_young", tenant="sweepco#live")
    make_project("proj_sw_done", tenant="sweepco#live", status="completed", execution_arn=stopped)
    failed = set(sweeper.sweep())
    assert {"proj_sw_stop", "proj_sw_lost", "proj_sw_nostart"} <= failed
    assert not failed & {"proj_sw_run", "proj_sw_young", "proj_sw_done"}
    assert Project.get("proj_sw_stop").error.code == "execution_aborted"
    assert Project.get("proj_sw_lost").error.code == "execution_missing"
    assert Project.get("proj_sw_run").status == "processing"
    assert Project.get("proj_sw_done").status == "completed"
    # three projects failed -> three slots back (6 taken, 3 still held: running, young, done-but-never-released)
    assert quotas.in_flight("sweepco") == 3
    assert sweeper.sweep() == []  # idempotent
    # the sweeper reads the sparse in-flight index: failed and completed projects have left it
    indexed = {p.project_id for p in Project.in_flight_index.query("processing")}
    assert {"proj_sw_run", "proj_sw_young"} <= indexed
    assert not indexed & {"proj_sw_stop", "proj_sw_lost", "proj_sw_nostart", "proj_sw_done"}


def test_sweeper_queries_the_index_and_never_scans(world: Any, monkeypatch: Any) -> None:
    make_account("scanco", "whsec_z")
    make_project("proj_scan_old", tenant="scanco#live", created_at=utcnow() - timedelta(hours=1))

    def no_scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the sweeper scanned the projects table")

    monkeypatch.setattr(Project, "scan", no_scan)
    assert "proj_scan_old" in sweeper.sweep()


def test_scheduled_lambda_entry_runs_the_sweep(world: Any) -> None:
    from app import sweeper as scheduled

    make_account("schedco", "whsec_s")
    make_project("proj_sched_old", tenant="schedco#live", created_at=utcnow() - timedelta(hours=1))
    event = {"version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
             "account": "123456789012", "time": "2026-11-29T00:00:00Z", "region": "us-east-1",
             "resources": ["arn:aws:events:us-east-1:123456789012:rule/klipstar-sweeper"], "detail": {}}
    out = scheduled(event, None)
    assert "proj_sched_old" in out["failed"]
    assert Project.get("proj_sched_old").error.code == "execution_missing"
