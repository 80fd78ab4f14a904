"""Every handler logs JSON with the correlation ids and flushes EMF metrics (tracing stays a no-op here)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from chalicelib.pipeline import mark_failed
from chalicelib.pipeline.common import logger
from tests.unit.pipeline.awsenv import make_account, make_project


def test_logs_carry_project_and_execution_ids_and_metrics_are_emf(world: Any,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    make_account("obsco", "whsec_o")
    make_project("proj_obs", tenant="obsco#live")
    execution = "arn:aws:states:us-east-1:123456789012:execution:klipstar-local-pipeline:proj_obs"
    log_stream = io.StringIO()
    previous = logger.registered_handler.setStream(log_stream)  # the JSON handler (bound to stdout at import)
    try:
        mark_failed.handler({"project_id": "proj_obs", "tenant": "obsco#live", "execution_id": execution,
                             "error": {"Error": "SourceTooLong", "Cause": json.dumps({"errorMessage": "4 h max"})}})
    finally:
        logger.registered_handler.setStream(previous)
    text = log_stream.getvalue() + capsys.readouterr().out  # EMF metrics are printed to stdout
    lines = [json.loads(ln) for ln in text.splitlines() if ln.startswith("{")]
    logs = [ln for ln in lines if "message" in ln]
    done = [ln for ln in logs if ln["message"] == "step done"]
    assert done and done[-1]["project_id"] == "proj_obs" and done[-1]["execution_id"] == execution
    assert done[-1]["step"] == "mark_failed" and done[-1]["service"] == "klipstar-pipeline"
    emf = [ln for ln in lines if "_aws" in ln]
    assert emf, "no EMF metrics flushed"
    directive = emf[-1]["_aws"]["CloudWatchMetrics"][0]
    names = {m["Name"] for m in directive["Metrics"]}
    assert directive["Namespace"] == "KlipstarTest"
    assert {"StepDuration", "Failures_source_too_long"} <= names
    assert emf[-1]["step"] == "mark_failed"
