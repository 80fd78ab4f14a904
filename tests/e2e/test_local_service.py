"""`klipstar serve` in a subprocess on free ports, driven exactly like the seed's Python example."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
import boto3
import pytest
import requests

from chalicelib.local.service import free_port
from chalicelib.local.webhook_listener import WebhookListener
from chalicelib.webhooks.signing import verify_signature

TEST_KEY = "ks_test_" + "e2eLocalServiceKey0123456789abcd"[:32]
pytestmark = pytest.mark.xdist_group("local-service")


class _Files(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def sample_url(talk_path: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Files, directory=str(talk_path.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{talk_path.name}"
    server.shutdown()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("serve")
    api_port, moto_port = free_port(), free_port()
    env = {**os.environ, "KLIPSTAR_LOCAL_API_KEY": TEST_KEY, "PYTHONUNBUFFERED": "1"}
    log = (workdir / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.cli.main", "serve", "--port", str(api_port), "--moto-port", str(moto_port)],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
        # started the way a non-interactive shell starts a background job (SIGINT ignored), which is
        # the hard case for test_ctrl_c_stops_cleanly: serve must still stop on SIGINT
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    state = workdir / ".klipstar" / "local.json"
    deadline = time.monotonic() + 120
    while not state.is_file():
        assert proc.poll() is None, (workdir / "serve.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "klipstar serve did not come up"
        time.sleep(0.2)
    info = json.loads(state.read_text())
    yield {"proc": proc, "base": f"http://127.0.0.1:{api_port}", "secret": info["webhook_secret"],
           "state": info, "log": workdir / "serve.log", "api_port": api_port,
           "moto_port": moto_port}
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:  # never leave a server behind, whatever the test found
                proc.kill()
                proc.wait()
    log.close()


@pytest.fixture(scope="module")
def completed(service: dict[str, Any], sample_url: str) -> dict[str, Any]:
    listener = WebhookListener(service["secret"]).start()
    try:
        # The seed's example, with the local base URL and the local key.
        response = requests.post(
            f"{service['base']}/v1/projects",
            headers={"Authorization": f"Bearer {TEST_KEY}"},
            json={
                "video_url": sample_url,
                "max_clips": 2,
                "caption_style": "karaoke",
                "platforms": ["youtube_shorts", "tiktok", "reels"],
                "webhook_url": listener.url,
            },
            timeout=30,
        )
        assert response.status_code == 201, response.text
        project = response.json()
        assert project["id"].startswith("proj_") and project["status"] == "processing"
        received = listener.wait_for({"project.completed", "project.failed"}, project["id"], timeout=600)
    finally:
        listener.stop()
    return {"project": project, "received": received}


def test_serve_prints_state_and_key(service: dict[str, Any]) -> None:
    assert service["state"]["api_key"] == TEST_KEY
    assert service["state"]["webhook_secret"].startswith("whsec_")
    assert requests.get(f"{service['base']}/v1/openapi.json", timeout=10).status_code == 200


def test_webhook_arrives_signed_with_the_seed_payload(completed: dict[str, Any], service: dict[str, Any]) -> None:
    received = completed["received"]
    assert received.signature_ok
    # verify independently of the listener, and that a tampered body fails
    assert received.event["event"] == "project.completed", received.event
    assert received.signature_header.startswith("t=") and ",v1=" in received.signature_header
    assert verify_signature(service["secret"], received.signature_header, received.raw)
    assert not verify_signature(service["secret"], received.signature_header, received.raw + b" ")
    assert not verify_signature("whsec_wrong", received.signature_header, received.raw)
    assert received.event_id and received.event_id.startswith("evt_")
    event = received.event
    assert event["project_id"] == completed["project"]["id"]
    assert 1 <= len(event["clips"]) <= 2
    for clip in event["clips"]:
        assert {"id", "title", "virality_score", "duration_seconds", "download_url", "platforms"} <= set(clip)
        assert clip["platforms"]["tiktok"]["width"] == 1080 and clip["platforms"]["tiktok"]["height"] == 1920
        assert set(clip["platforms"]) == {"youtube_shorts", "tiktok", "reels"}


def test_clip_get_download_and_delete(completed: dict[str, Any], service: dict[str, Any], tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {TEST_KEY}"}
    clip_id = completed["received"].event["clips"][0]["id"]
    clip = requests.get(f"{service['base']}/v1/clips/{clip_id}", headers=headers, timeout=10)
    assert clip.status_code == 200
    body = clip.json()
    assert body["project_id"] == completed["project"]["id"]
    url = body["download_url"]
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=3600" in url
    video = requests.get(url, timeout=60)
    assert video.status_code == 200
    path = tmp_path / "clip.mp4"
    path.write_bytes(video.content)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (1080, 1920)
        assert stream.codec_context.name == "h264"

    project_id = completed["project"]["id"]
    deleted = requests.delete(f"{service['base']}/v1/projects/{project_id}", headers=headers, timeout=30)
    assert deleted.status_code == 204
    assert requests.get(f"{service['base']}/v1/projects/{project_id}", headers=headers, timeout=10).status_code == 404
    assert requests.get(f"{service['base']}/v1/clips/{clip_id}", headers=headers, timeout=10).status_code == 404
    assert requests.get(url, timeout=10).status_code in (403, 404), "the stored clip is gone"
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{service['moto_port']}", region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    left = s3.list_objects_v2(Bucket="klipstar-local", Prefix=f"accounts/local/test/projects/{project_id}/")
    assert left.get("KeyCount", 0) == 0, "no object is left under the deleted project"


def test_port_in_use_gets_one_line(service: dict[str, Any], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "chalicelib.cli.main", "serve", "--port", str(service["api_port"]),
         "--moto-port", str(free_port())],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert f"port {service['api_port']}" in proc.stderr and "in use" in proc.stderr


def test_ctrl_c_stops_cleanly(service: dict[str, Any]) -> None:
    proc = service["proc"]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert not (Path(service["log"]).parent / ".klipstar" / "local.json").exists()
