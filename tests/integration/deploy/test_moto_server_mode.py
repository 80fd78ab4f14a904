"""`klipstar serve` mode: the same provisioning against a ThreadedMotoServer (not mock_aws) runs the real
ASL, and a failing step is caught into MarkFailed. Run in a clean subprocess (no mock_aws in it)."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT

SCRIPT = r'''
import json, os, socket, sys, time
sys.path.insert(0, ".")
from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer
from chalicelib.local.aws import MOTO_CONFIG, provision
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
default_user_config.update(MOTO_CONFIG)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False); server.start()
url = f"http://127.0.0.1:{port}"
os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
    "KLIPSTAR_DYNAMODB_ENDPOINT_URL": url, "KLIPSTAR_S3_ENDPOINT_URL": url, "KLIPSTAR_SQS_ENDPOINT_URL": url,
    "KLIPSTAR_STEPFUNCTIONS_ENDPOINT_URL": url, "KLIPSTAR_ENV": "local", "KLIPSTAR_S3_REGION": "us-east-1",
    "KLIPSTAR_TABLE_PREFIX": "srv-", "POWERTOOLS_TRACE_DISABLED": "1"})
from tests.unit.pipeline.awsenv import make_account, make_project, reset_caches
reset_caches()
res = provision(endpoint_url=url)
os.environ.update(res.env()); reset_caches()
make_account(); make_project("proj_srv", video_url="file:///nonexistent/talk.mp4")
import boto3
sfn = boto3.client("stepfunctions", endpoint_url=url, region_name="us-east-1")
arn = sfn.start_execution(stateMachineArn=res.state_machine_arn, name="proj_srv",
                          input=json.dumps({"project_id": "proj_srv", "tenant": "acme#test"}))["executionArn"]
for _ in range(300):
    status = sfn.describe_execution(executionArn=arn)["status"]
    if status != "RUNNING":
        break
    time.sleep(0.1)
from chalicelib.data.models import Project
p = Project.get("proj_srv")
print("RESULT", json.dumps({"execution": status, "project": p.status, "code": p.error.code if p.error else None}))
server.stop()
'''


def test_provisioned_pipeline_runs_against_a_moto_server() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=180)
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, result.stdout[-2000:] + result.stderr[-3000:]
    import json

    got = json.loads(lines[-1][len("RESULT "):])
    # the missing file:// source is refused by ingest as not_media, recorded by MarkFailed as that code
    assert got == {"execution": "FAILED", "project": "failed", "code": "not_media"}, got
