"""Locating and running the ffmpeg binary (imageio-ffmpeg's build, or the Lambda layer's /opt/bin/ffmpeg)."""

from __future__ import annotations

import functools
import os
import subprocess

from .errors import RenderFailed

LAYER_FFMPEG = "/opt/bin/ffmpeg"
_STDERR_TAIL = 600


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary: the Lambda layer's if present, else imageio-ffmpeg's bundled build."""
    if os.path.isfile(LAYER_FFMPEG) and os.access(LAYER_FFMPEG, os.X_OK):
        return LAYER_FFMPEG
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _tail(text: str) -> str:
    """The last meaningful stderr lines, flattened to one line."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    tail = " | ".join(lines[-4:])
    return tail[-_STDERR_TAIL:] if len(tail) > _STDERR_TAIL else tail


def run_ffmpeg_capture(args: list[str], *, timeout: float | None = None, loglevel: str = "error") -> str:
    """Run ffmpeg with `args`; return its stderr. Raise RenderFailed (stderr tail) on failure or timeout."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", loglevel, *args]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RenderFailed(f"ffmpeg timed out after {timeout:g} s") from None
    except OSError as exc:
        raise RenderFailed(f"ffmpeg could not be started: {exc}") from None
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RenderFailed(f"ffmpeg failed (exit {proc.returncode}): {_tail(err) or 'no error output'}")
    return err


def run_ffmpeg(args: list[str], *, timeout: float | None = None) -> None:
    """Run ffmpeg quietly (-hide_banner -nostdin -loglevel error); raise RenderFailed with the stderr tail."""
    run_ffmpeg_capture(args, timeout=timeout)


def is_url(source: object) -> bool:
    """True for an http(s) source (a presigned object-store URL) rather than a local file."""
    return isinstance(source, str) and source.startswith(("http://", "https://"))


def url_input_options(source: object, request_bytes: int) -> dict[str, str]:
    """ffmpeg http options for reading `source` in bounded range requests of `request_bytes` on one
    keep-alive connection: a seek or close then wastes at most one request, never the rest of the file."""
    if not is_url(source) or request_bytes <= 0:
        return {}
    return {"request_size": str(request_bytes), "initial_request_size": str(request_bytes),
            "multiple_requests": "1"}
