"""Publishing test fixtures: real mp4 clips made with imageio-ffmpeg, settings pointed at fakes."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import imageio_ffmpeg
import pytest
from moto import mock_aws

from chalicelib.data import storage
from chalicelib.data.models import create_tables
from chalicelib.publishing.tokens import generate_local_key
from chalicelib.settings import Settings, get_settings, load_settings


def make_mp4(path: Path, *, width: int, height: int, seconds: float, noise: int, rate: list[str]) -> Path:
    """A real H.264/AAC mp4 (noise keeps it from compressing, to reach a useful size)."""
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=30:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        "-vf", f"noise=alls={noise}:allf=t", "-c:v", "libx264", "-preset", "ultrafast", *rate,
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(path),
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def sha256(data: bytes | Path) -> str:
    return hashlib.sha256(data.read_bytes() if isinstance(data, Path) else data).hexdigest()


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("publishing-media")


@pytest.fixture(scope="session")
def small_mp4(media_dir: Path) -> Path:
    """~1.5 MB, 5 s, 360x640 vertical: several 256 KiB YouTube chunks, one TikTok chunk (< 5 MB)."""
    return make_mp4(media_dir / "small.mp4", width=360, height=640, seconds=5, noise=30, rate=["-b:v", "2M"])


@pytest.fixture(scope="session")
def big_mp4(media_dir: Path) -> Path:
    """~23 MB, 4 s, 360x640: several TikTok chunks of at least 5 MB."""
    return make_mp4(media_dir / "big.mp4", width=360, height=640, seconds=4, noise=40, rate=["-qp", "20"])


@pytest.fixture
def aws() -> Iterator[None]:
    """moto: the tables and the bucket (the worker tests' world)."""
    with mock_aws():
        storage.s3_client.cache_clear()
        create_tables()
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=get_settings().bucket)
        yield
        storage.s3_client.cache_clear()


@pytest.fixture
def settings() -> Settings:
    """Fast retries/polls; base URLs are filled in per test from the fake's url."""
    return load_settings(
        environ={},
        env="local",
        token_encryption_key=generate_local_key(),
        youtube_client_id="yt-client",
        youtube_client_secret="yt-secret",
        tiktok_client_key="tt-key",
        tiktok_client_secret="tt-secret",
        youtube_chunk_bytes=256 * 1024,
        tiktok_chunk_bytes=5 * 1024 * 1024,
        publish_backoff_base_seconds=0.01,
        publish_backoff_max_seconds=30.0,
        publish_poll_interval_seconds=0.01,
        publish_poll_timeout_seconds=20.0,
        publish_http_timeout_seconds=20.0,
        instagram_poll_interval_seconds=0.01,
        publish_retry_delay_seconds=0.0,
        youtube_app_verified=True,  # app status is exercised on purpose where it matters
        tiktok_app_audited=True,
    )


def with_urls(settings: Settings, url: str) -> Settings:
    return dataclasses.replace(
        settings,
        youtube_api_base_url=url,
        google_token_url=f"{url}/token",
        tiktok_api_base_url=url,
        instagram_graph_base_url=url,
    )


class Sleeps(list):
    """Records requested sleeps instead of sleeping (the waits themselves are asserted)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def file_server(media_dir: Path) -> Iterator[str]:
    """A static HTTP server over the media dir: stands in for presigned URLs outside moto."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(media_dir)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass
