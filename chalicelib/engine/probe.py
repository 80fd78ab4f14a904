"""Probing with PyAV (no ffprobe binary): duration, streams, size, fps, codecs and rotation; talk checks."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from ..settings import Settings
from .errors import (
    CorruptMedia,
    NoAudioStream,
    NotMedia,
    NoVideoStream,
    SourceTooLong,
    SourceTooShort,
    SourceUnsupported,
)
from .ingest import sniff_media
from .types import MediaInfo

END_CHECK_SECONDS = 3.0  # probe decodes a frame this close to the end to catch truncated files


@dataclass(frozen=True)
class SourceCaps:
    """The largest video the pipeline accepts (checked before any frame is decoded)."""

    max_dimension: int = Settings.max_source_dimension
    max_fps: float = Settings.max_source_fps
    max_pixel_rate: int = Settings.max_source_pixel_rate

    @classmethod
    def from_settings(cls, settings: Settings) -> SourceCaps:
        return cls(settings.max_source_dimension, settings.max_source_fps, settings.max_source_pixel_rate)

    def check(self, width: int, height: int, fps: float) -> None:
        """Raise SourceUnsupported when the frame size, frame rate or pixel rate is over its cap."""
        if max(width, height) > self.max_dimension:
            raise SourceUnsupported(
                f"the video is {width}x{height}; Klipstar accepts up to {self.max_dimension} pixels on a side"
            )
        if fps > self.max_fps:
            raise SourceUnsupported(f"the video runs at {fps:g} fps; Klipstar accepts up to {self.max_fps:g} fps")
        if width * height * fps > self.max_pixel_rate:
            raise SourceUnsupported(
                f"the video's {width}x{height} at {fps:g} fps is more than the {self.max_pixel_rate:,} "
                "pixels per second Klipstar accepts"
            )


def _duration(container: Any) -> float:
    if container.duration:
        return container.duration / av.time_base
    best = 0.0
    for s in container.streams:
        if s.duration and s.time_base:
            best = max(best, float(s.duration * s.time_base))
    return best


def _rotation(container: Any, stream: Any) -> int:
    """Degrees clockwise the player rotates the stored frames (display matrix, else the rotate tag)."""
    tag = stream.metadata.get("rotate")
    if tag:
        with contextlib.suppress(ValueError):
            return int(float(tag)) % 360
    try:
        frame = next(container.decode(stream))
    except (StopIteration, av.FFmpegError):
        return 0
    finally:
        with contextlib.suppress(av.FFmpegError):
            container.seek(0)
    # PyAV reports the display matrix angle counter-clockwise; MediaInfo stores clockwise.
    ccw = round(float(getattr(frame, "rotation", 0) or 0))
    return (-ccw) % 360


def _decodes_to_end(container: Any, duration: float, video: bool) -> bool:
    """Whether frames decode up to about the end of the open file (false for truncated files)."""
    stream = container.streams.video[0] if video else container.streams.audio[0]
    target = max(0.0, duration - END_CHECK_SECONDS)
    container.seek(int(target * av.time_base), any_frame=False, backward=True)
    last = -1.0
    try:
        for frame in container.decode(stream):
            if frame.time is not None:
                last = max(last, float(frame.time))
    except av.FFmpegError:
        pass
    return last >= duration - END_CHECK_SECONDS / 2


def probe(path: Path, caps: SourceCaps = SourceCaps()) -> MediaInfo:
    """What is in the file. Raises NotMedia (not a media container), CorruptMedia (unreadable/truncated)
    or SourceUnsupported (over `caps`, found from the stream headers before any frame is decoded)."""
    path = Path(path)
    if not path.is_file():
        raise NotMedia(f"no such file: {path}")
    size = path.stat().st_size
    if size == 0:
        raise NotMedia(f"{path.name} is empty")
    try:
        container = av.open(str(path))
    except av.error.InvalidDataError as exc:
        with path.open("rb") as fh:
            looks_like_media = sniff_media(fh.read(4096)) is not None
        if looks_like_media:  # e.g. an MP4 cut before its moov atom
            raise CorruptMedia(f"{path.name} is a damaged or truncated media file: {exc.strerror or exc}") from None
        raise NotMedia(f"{path.name} is not a video or audio file") from None
    except av.FFmpegError as exc:
        raise CorruptMedia(f"{path.name} cannot be read: {exc}") from None
    with container:
        vstreams = [s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)]
        astreams = list(container.streams.audio)
        if not vstreams and not astreams:
            raise NotMedia(f"{path.name} has no video or audio stream")
        duration = _duration(container)
        info = MediaInfo(
            path=str(path),
            size_bytes=size,
            duration=round(duration, 3),
            format_name=container.format.name,
            has_video=bool(vstreams),
            has_audio=bool(astreams),
        )
        if vstreams:
            v = vstreams[0]
            cc = v.codec_context
            info.video_codec = cc.name
            rate = v.average_rate or v.guessed_rate or v.base_rate
            info.fps = round(float(rate), 3) if rate else 0.0
            caps.check(cc.width, cc.height, info.fps)
            info.rotation = _rotation(container, v)
            w, h = cc.width, cc.height
            info.width, info.height = (h, w) if info.rotation in (90, 270) else (w, h)
        if astreams:
            a = astreams[0]
            info.audio_codec = a.codec_context.name
            info.audio_sample_rate = a.codec_context.sample_rate or 0
        if duration <= 0:
            raise CorruptMedia(f"{path.name} has no readable duration")
        if vstreams and (info.width <= 0 or info.height <= 0):
            raise CorruptMedia(f"{path.name} has a video stream without a frame size")
        try:
            intact = _decodes_to_end(container, duration, video=bool(vstreams))
        except av.FFmpegError:
            intact = False
    if not intact:
        raise CorruptMedia(f"{path.name} is truncated or corrupt: nothing decodes near its end ({duration:.1f} s)")
    return info


def check_talk(info: MediaInfo, min_duration: float, max_source_seconds: float) -> None:
    """Raise unless the media can be clipped: needs video and audio, and a length within the limits."""
    if not info.has_video:
        if info.has_audio:
            raise NoVideoStream("the source is audio only; Klipstar needs a video of the speaker")
        raise NoVideoStream("the source has no video stream")
    if not info.has_audio:
        raise NoAudioStream("the video has no audio stream, so there is no speech to clip")
    if info.duration < min_duration:
        raise SourceTooShort(
            f"the source is {info.duration:.1f} s long, shorter than the minimum clip length of {min_duration:g} s"
        )
    if max_source_seconds and info.duration > max_source_seconds:
        raise SourceTooLong(
            f"the source is {info.duration / 60:.1f} min long, more than the {max_source_seconds / 60:g}-minute limit"
        )
