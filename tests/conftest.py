"""Shared media fixtures: the committed talk, its script, derived bad media, and its transcript (once).

The talk (tests/fixtures/talk.mp4) and its script come from `python scripts/make_fixtures.py`.
Bad media are derived from it with ffmpeg at test time, into one session temp dir.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest

# Tests check what renders contain (sizes, codecs, frames, audio, timings), not compression efficiency: the
# fastest x264 preset keeps the suite inside its time budget on 2 cores (the profile is still forced to High).
os.environ.setdefault("KLIPSTAR_X264_PRESET", "ultrafast")

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TALK = FIXTURES / "talk.mp4"
TALK_SCRIPT = FIXTURES / "talk_script.json"


def _ffmpeg(*args: str) -> None:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.fixture(scope="session", autouse=True)
def atomic_moto_dynamodb() -> None:
    """moto's conditional writes made atomic, as on DynamoDB (what the local service runs with too)."""
    from chalicelib.local import dynamodb_seam

    dynamodb_seam.install()


@pytest.fixture(scope="session")
def talk_path() -> Path:
    """The ~151 s 1280x720 25 fps H.264/AAC talk (read-only: copy it before modifying)."""
    assert TALK.exists(), "tests/fixtures/talk.mp4 is missing: run `python scripts/make_fixtures.py`"
    return TALK


@pytest.fixture(scope="session")
def talk_script() -> dict[str, Any]:
    """talk_script.json: paragraphs [{kind, topic, text, start, end}], scene_cut, photo geometry."""
    return json.loads(TALK_SCRIPT.read_text())


@pytest.fixture(scope="session")
def face_at(talk_script: dict[str, Any]) -> Callable[[float], tuple[float, float, float, float]]:
    """t (source seconds) -> the astronaut's face box (x, y, w, h) in source pixels (1280x720)."""
    photo = talk_script["photo"]
    fx, fy, fw, fh = photo["face_in_photo"]
    scenes = photo["scenes"]

    def at(t: float) -> tuple[float, float, float, float]:
        sc = next((s for s in scenes if t < s["end"]), scenes[-1])
        x = sc["x0"] + (sc["x1"] - sc["x0"]) * (t - sc["start"]) / (sc["end"] - sc["start"])
        return (round(x) + fx, photo["y"] + fy, fw, fh)

    return at


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def not_media_path(media_dir: Path) -> Path:
    """A text file named .mp4."""
    path = media_dir / "not_media.mp4"
    path.write_text("<html><body>This is not a video, it is a web page.</body></html>\n" * 20)
    return path


@pytest.fixture(scope="session")
def no_audio_path(media_dir: Path, talk_path: Path) -> Path:
    """The talk's first 30 s, video only."""
    path = media_dir / "no_audio.mp4"
    _ffmpeg("-i", str(talk_path), "-t", "30", "-an", "-c:v", "copy", str(path))
    return path


@pytest.fixture(scope="session")
def no_speech_path(media_dir: Path) -> Path:
    """30 s of test pattern with quiet pink noise and a soft 220 Hz tone: audio, but no speech."""
    path = media_dir / "no_speech.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=30",
        "-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.01:d=30:r=22050",
        "-f", "lavfi", "-i", "sine=f=220:d=30:r=22050",
        "-filter_complex", "[2:a]volume=0.05[t];[1:a][t]amix=inputs=2:normalize=0[a]",
        "-map", "0:v", "-map", "[a]", "-ac", "1",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "35", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "32k", "-shortest", str(path),
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def short_path(media_dir: Path, talk_path: Path) -> Path:
    """The first 5 s of the talk (video + audio)."""
    path = media_dir / "short.mp4"
    _ffmpeg("-i", str(talk_path), "-t", "5", "-c", "copy", "-movflags", "+faststart", str(path))
    return path


@pytest.fixture(scope="session")
def truncated_path(media_dir: Path, talk_path: Path) -> Path:
    """talk.mp4 cut to 40% of its bytes (moov is first, so the header still claims the full length)."""
    path = media_dir / "truncated.mp4"
    data = talk_path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.4)])
    return path


@pytest.fixture(scope="session")
def audio_only_path(media_dir: Path, talk_path: Path) -> Path:
    """The talk's audio as an .m4a (no video stream)."""
    path = media_dir / "audio_only.m4a"
    _ffmpeg("-i", str(talk_path), "-vn", "-c:a", "copy", str(path))
    return path


@pytest.fixture(scope="session")
def talk_wav(media_dir: Path, talk_path: Path) -> Path:
    """The talk's audio as 16 kHz mono s16 WAV."""
    from chalicelib.engine.audio import extract_audio

    return extract_audio(talk_path, media_dir / "talk.wav")


@pytest.fixture(scope="session")
def talk_transcript(talk_wav: Path) -> Any:
    """The talk transcribed once (default settings: bundled tiny.en) and shared by every test."""
    from chalicelib.engine.transcribe import transcribe
    from chalicelib.settings import load_settings

    return transcribe(talk_wav, language=None, settings=load_settings(environ={}))
