"""`klipstar serve` from outside: keys minted by another process, bursts of connections, unknown methods."""

from __future__ import annotations

import http.client
import json
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from chalicelib.local.service import free_port

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}


def klipstar(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chalicelib.cli.main", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """`klipstar serve` running in its own process and directory."""
    here = tmp_path_factory.mktemp("serve")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.cli.main", "serve", "--port", str(port), "--moto-port", str(free_port())],
        cwd=here, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    seen: list[str] = []
    for line in proc.stdout:  # type: ignore[union-attr]
        seen.append(line)
        if "Ctrl-C to stop" in line:
            break
    else:
        pytest.fail("klipstar serve did not start:\n" + "".join(seen[-20:]))
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # type: ignore[union-attr]
    yield here, port
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def test_state_file_is_private(served) -> None:
    here, _ = served
    state = here / ".klipstar" / "local.json"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert "KLIPSTAR_KEY_PEPPER" in json.loads(state.read_text())["environment"]


def test_keys_create_local_mints_a_key_the_server_accepts(served) -> None:
    here, port = served
    made = klipstar("keys", "--local", "create", "--account", "second", "--plan", "spark", "--json", cwd=here)
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    assert key.startswith("ks_live_")
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {key}"}
    r = requests.get(f"{base}/v1/projects", headers=auth, timeout=30)
    assert r.status_code == 200 and r.json()["data"] == []  # the second account sees none of the local one's
    assert r.headers["RateLimit-Policy"] == '"reads-minute";q=120;w=60'  # Spark's read budget
    assert requests.delete(f"{base}/v1/projects/proj_nope", headers=auth, timeout=30).status_code == 404
    assert requests.delete(f"{base}/v1/projects/proj_nope", headers=auth, timeout=30).status_code == 429  # Spark
    listed = klipstar("keys", "--local", "list", "--account", "second", "--json", cwd=here)
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 1


def test_keys_local_without_a_running_serve_is_one_line(tmp_path: Path) -> None:
    made = klipstar("keys", "--local", "create", "--account", "x", cwd=tmp_path)
    assert made.returncode != 0 and made.stdout == ""
    assert made.stderr.strip().count("\n") == 0 and "klipstar serve" in made.stderr


def test_burst_of_fifty_parallel_connections_gets_no_reset(served) -> None:
    _, port = served
    start = threading.Barrier(50)
    results: list[object] = []

    def hit() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        try:
            conn.request("GET", "/v1/openapi.json")
            results.append(conn.getresponse().status)
        except OSError as exc:  # ConnectionResetError, refused...
            results.append(repr(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=hit) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 50


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND"])
def test_undeclared_methods_are_405_in_the_error_shape(served, method: str) -> None:
    _, port = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, "/v1/projects")
    r = conn.getresponse()
    assert r.status == 405 and r.getheader("Content-Type") == "application/json"
    error = json.loads(r.read())["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "method_not_allowed"
    conn.close()


def test_probe_script_finds_nothing(served) -> None:
    """tests/probe/probe.py, the outside probe of issue 13, run against this server."""
    here, _ = served
    state = here / ".klipstar" / "local.json"
    done = subprocess.run([sys.executable, "-m", "tests.probe.probe", "--state", str(state)],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("ok  ") == 5


MINT = """
import json
from chalicelib.local.runtime import attach_to_running_service
attach_to_running_service()
from chalicelib.data.keys import create_key
print(json.dumps([create_key(f"outside{n}", mode="test", plan="studio").key for n in range(COUNT)]))
"""


def test_schemathesis_from_outside_with_every_check(served) -> None:
    """A bounded schemathesis run over HTTP against the serve process, every built-in check on.

    Writes cost 15 a minute per Studio account, so cases take turns among several accounts (their
    reads stay far under 600 a minute); path parameters of valid cases are real ids of the account's
    own resources, made through the API.
    """
    import itertools

    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import CHECKS

    from tests.integration.api.test_schemathesis import CONFIG, negatable

    here, port = served
    base = f"http://127.0.0.1:{port}"
    minted = subprocess.run([sys.executable, "-c", MINT.replace("COUNT", "8")], cwd=here, env=ENV,
                            capture_output=True, text=True, timeout=120)
    assert minted.returncode == 0, minted.stderr
    keys = json.loads(minted.stdout)

    def make(key: str, path: str, body: dict[str, object]) -> str:
        r = requests.post(f"{base}{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert r.status_code in (201, 202), r.text
        return str(r.json()["id"])

    ids = {key: {
        "project_id": make(key, "/v1/projects", {"video_url": "https://videos.example.com/talk.mp4"}),
        "upload_id": make(key, "/v1/uploads", {"filename": "a.mp4", "content_type": "video/mp4", "size": 10}),
        "endpoint_id": make(key, "/v1/webhook-endpoints", {"url": "https://hooks.example.com/k"}),
        "account_id": make(key, "/v1/social-accounts",
                           {"platform": "tiktok", "access_token": "a", "refresh_token": "r"}),
    } for key in keys}
    turns = itertools.cycle(keys)
    checks = CHECKS.get_all()
    schema = schemathesis.openapi.from_url(f"{base}/v1/openapi.json", config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: list[int] = []
    cases = [(o, GenerationMode.POSITIVE) for o in operations]
    cases += [(o, GenerationMode.NEGATIVE) for o in operations if negatable(o)]
    for operation, mode in cases:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=2, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow])
        def run(case):
            key = next(turns)
            if mode == GenerationMode.POSITIVE:
                for name in case.path_parameters or {}:
                    case.path_parameters[name] = ids[key].get(name, case.path_parameters[name])
            response = case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=checks)
            statuses.append(response.status_code)

        run()
    assert statuses and all(s < 500 for s in statuses)
    assert statuses.count(429) < len(statuses) // 4, statuses  # the run reached the logic, not the limits
    assert statuses.count(401) == 0 and sum(200 <= s < 300 for s in statuses) >= len(operations) // 2, statuses
