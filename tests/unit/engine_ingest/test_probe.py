"""probe/check_talk on the fixture talk and on derived bad media."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from chalicelib.engine.errors import (
    CorruptMedia,
    NoAudioStream,
    NotMedia,
    NoVideoStream,
    SourceTooLong,
    SourceTooShort,
    SourceUnsupported,
)
from chalicelib.engine.probe import SourceCaps, check_talk, probe
from chalicelib.settings import load_settings

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str) -> bytes:
    return subprocess.run(
        [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True, capture_output=True
    ).stdout


def test_talk(talk_path: Path, talk_script: dict) -> None:
    info = probe(talk_path)
    assert (info.width, info.height, info.rotation) == (1280, 720, 0)
    assert info.fps == 25.0
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.has_video and info.has_audio
    assert info.size_bytes == talk_path.stat().st_size
    assert abs(info.duration - talk_script["duration"]) < 0.1
    assert "mp4" in info.format_name
    check_talk(info, 15.0, 4 * 3600.0)
    assert type(info).from_dict(info.to_dict()) == info


def test_not_media(not_media_path: Path, tmp_path: Path) -> None:
    with pytest.raises(NotMedia):
        probe(not_media_path)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(NotMedia):
        probe(empty)
    with pytest.raises(NotMedia):
        probe(tmp_path / "missing.mp4")


def test_truncated_with_moov_first(truncated_path: Path) -> None:
    with pytest.raises(CorruptMedia, match="truncated"):
        probe(truncated_path)


def test_truncated_before_moov(short_path: Path, tmp_path: Path) -> None:
    """An MP4 written without faststart (moov at the end) and cut in half has no moov at all."""
    plain = tmp_path / "moov_last.mp4"
    ffmpeg("-i", str(short_path), "-c", "copy", str(plain))
    data = plain.read_bytes()
    assert data.find(b"moov") > len(data) // 2
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptMedia):
        probe(cut)


def test_no_audio(no_audio_path: Path) -> None:
    info = probe(no_audio_path)
    assert info.has_video and not info.has_audio
    with pytest.raises(NoAudioStream):
        check_talk(info, 15.0, 3600.0)


def test_audio_only_needs_video(audio_only_path: Path) -> None:
    info = probe(audio_only_path)
    assert info.has_audio and not info.has_video and info.width == 0
    with pytest.raises(NoVideoStream, match="audio only"):
        check_talk(info, 15.0, 3600.0)


def test_length_limits(short_path: Path, talk_path: Path) -> None:
    short = probe(short_path)
    assert 4.5 < short.duration < 5.5
    with pytest.raises(SourceTooShort, match="minimum clip length of 15 s"):
        check_talk(short, 15.0, 3600.0)
    check_talk(short, 3.0, 3600.0)
    with pytest.raises(SourceTooLong):
        check_talk(probe(talk_path), 15.0, 120.0)


def test_no_speech_media_passes_probe(no_speech_path: Path) -> None:
    check_talk(probe(no_speech_path), 15.0, 3600.0)  # silence is transcription's verdict, not probe's


def test_rotation_matches_what_players_show(tmp_path: Path) -> None:
    """A 320x240 clip tagged for display rotation: probe reports the displayed size and the clockwise angle,
    and rotating a stored frame by that angle gives what ffmpeg's autorotate shows."""
    plain = tmp_path / "plain.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=10:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(plain))
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(plain), "-c", "copy", str(rotated))
    info = probe(rotated)
    assert (info.width, info.height) == (240, 320)
    assert info.rotation == 270

    def first_frame(path: Path, autorotate: bool, w: int, h: int) -> np.ndarray:
        flags = [] if autorotate else ["-noautorotate"]
        raw = ffmpeg(*flags, "-i", str(path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-")
        return np.frombuffer(raw, np.uint8).reshape(h, w).astype(int)

    stored = first_frame(rotated, False, 320, 240)
    shown = first_frame(rotated, True, info.width, info.height)
    expected = np.rot90(stored, k=-info.rotation // 90)  # np.rot90 with negative k turns clockwise
    assert np.abs(shown - expected).mean() < 3
    assert np.abs(shown - np.rot90(stored, k=info.rotation // 90)).mean() > 20  # the other way is wrong


def test_source_caps_from_the_stream_headers(talk_path: Path) -> None:
    """The fixture is 1280x720 at 25 fps: each cap below it refuses it with source_unsupported."""
    assert probe(talk_path, SourceCaps.from_settings(load_settings(environ={}))).width == 1280
    for caps, words in (
        (SourceCaps(max_dimension=1279), "1280x720"),
        (SourceCaps(max_fps=24.0), "25 fps"),
        (SourceCaps(max_pixel_rate=1280 * 720 * 25 - 1), "pixels per second"),
    ):
        with pytest.raises(SourceUnsupported, match=words) as err:
            probe(talk_path, caps)
        assert err.value.code == "source_unsupported"


def test_default_caps_refuse_a_huge_frame(tmp_path: Path) -> None:
    """A tiny file with a 4112-pixel-wide frame: refused by the default cap before a frame is decoded."""
    wide = tmp_path / "wide.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=4112x16:rate=1:duration=1", "-c:v", "libx264", str(wide))
    with pytest.raises(SourceUnsupported, match="4112x16"):
        probe(wide)
    fast = tmp_path / "fast.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=64x64:rate=240:duration=0.2", "-c:v", "libx264", str(fast))
    with pytest.raises(SourceUnsupported, match="240 fps"):
        probe(fast)
