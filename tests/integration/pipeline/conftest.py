"""Whole executions of the real state machine (infra/pipeline.asl.json) in moto, driven through the API.

One moto world for the package; transcription chunks of 60 s so the talk (~151 s) exercises the
chunked-transcription Map. Every test keeps its run small (max_clips 2, one platform size).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from tests.unit.pipeline.awsenv import Receiver, aws_world


@dataclass
class Api:
    client: Client
    key: str
    secret: str

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        raw = json.dumps(body) if body is not None else None
        resp = getattr(self.client.http, method.lower())(path, headers=headers, body=raw)
        return resp.status_code, (json.loads(resp.body) if resp.body else None)


@pytest.fixture(scope="package")
def world() -> Iterator[Any]:
    with aws_world(KLIPSTAR_TRANSCRIBE_CHUNK_SECONDS="60", KLIPSTAR_KEY_PEPPER="pipeline-test-pepper") as res:
        yield res


@pytest.fixture(scope="package")
def api(world: Any) -> Iterator[Api]:
    from app import app
    from chalicelib.data.keys import create_key
    from chalicelib.webhooks.signing_secrets import account_ring

    minted = create_key("pipeco", mode="test", plan="studio")
    secret = account_ring("pipeco#test").current
    with Client(app) as client:
        yield Api(client, minted.key, secret)


@pytest.fixture(scope="package")
def talk_40s(media_dir: Path, talk_path: Path) -> Path:
    """The talk's first 40 s (stream copy): one transcription chunk, cheap to process."""
    import imageio_ffmpeg

    out = media_dir / "talk_40s.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(talk_path), "-t", "40",
                    "-c", "copy", str(out)], check=True)
    return out


@pytest.fixture(scope="package")
def receiver() -> Iterator[Receiver]:
    rcv = Receiver().start()
    yield rcv
    rcv.stop()
