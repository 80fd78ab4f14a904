"""`klipstar webhooks listen` and the demo's first-run errors, as a person at a terminal meets them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from chalicelib.cli.demo import ensure_sample
from chalicelib.cli.errors import CliError
from chalicelib.local.service import free_port
from chalicelib.webhooks.signing import sign, standard_headers

SECRET = "whsec_listen_test_secret"


@pytest.fixture
def listener(tmp_path: Path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.cli.main", "webhooks", "listen", "--port", str(port), "--secret", SECRET],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert "Listening for webhooks" in proc.stdout.readline()
    yield proc, f"http://127.0.0.1:{port}/webhooks"
    proc.terminate()
    proc.wait(timeout=10)


def test_listen_verifies_prints_and_answers(listener) -> None:
    proc, url = listener
    body = json.dumps({"event": "project.completed", "project_id": "proj_123", "clips": []}).encode()
    now = int(time.time())
    headers = {"Klipstar-Signature": sign(SECRET, now, body), "Klipstar-Event-Id": "evt_1",
               "Content-Type": "application/json", **standard_headers([SECRET], "evt_1", now, body)}
    assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 200
    line = proc.stdout.readline()
    assert "project.completed proj_123 [evt_1] signatures ok" in line
    proc.stdout.readline()  # the byte count of the first event
    forgeries = [
        {**headers, "Klipstar-Signature": sign("whsec_wrong", now, body), "Klipstar-Event-Id": "evt_2"},
        {**headers, **standard_headers(["whsec_d3Jvbmc="], "evt_1", now, body)},  # only the standard one is wrong
    ]
    for forged in forgeries:
        assert requests.post(url, data=body, headers=forged, timeout=10).status_code == 400
        assert "SIGNATURE INVALID" in proc.stdout.readline()
        proc.stdout.readline()


def test_listen_without_a_secret_says_what_to_do(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "chalicelib.cli.main", "webhooks", "listen", "--port", str(free_port())],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "klipstar serve" in proc.stderr


def test_missing_sample_without_espeak_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no espeak-ng (nor anything else) on PATH
    sample = tmp_path / "talk.mp4"
    try:
        made = ensure_sample(sample)
    except CliError as exc:
        assert "espeak-ng" in str(exc) and "\n" not in str(exc)
    else:  # say how, so a failure here is diagnosable
        pytest.fail(f"made {made} without espeak-ng: PATH={os.environ.get('PATH')!r}, "
                    f"which={shutil.which('espeak-ng')!r}, bin={sorted(p.name for p in empty.iterdir())}")
    assert not sample.exists()
