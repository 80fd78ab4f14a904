"""Engine errors: each carries a stable machine-readable code and a one-line message."""

from __future__ import annotations


class EngineError(Exception):
    """A permanent problem with the input; retrying will not help."""

    code = "engine_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class InvalidOptions(EngineError):
    code = "invalid_options"


class NotMedia(EngineError):
    code = "not_media"


class CorruptMedia(EngineError):
    code = "corrupt_media"


class NoAudioStream(EngineError):
    code = "no_audio_stream"


class NoVideoStream(EngineError):
    code = "no_video_stream"


class NoSpeech(EngineError):
    code = "no_speech"


class SourceTooShort(EngineError):
    code = "source_too_short"


class SourceTooLong(EngineError):
    code = "source_too_long"


class SourceTooLarge(EngineError):
    code = "source_too_large"


class SourceTooSlow(EngineError):
    """A URL source that would not finish downloading inside the ingest function's time limit."""

    code = "source_too_slow"


class UrlUnreachable(EngineError):
    code = "url_unreachable"


class UrlRefused(EngineError):
    """The URL's address is private, loopback, link-local, metadata, or its scheme is not allowed."""

    code = "url_refused"


class RenderFailed(EngineError):
    code = "render_failed"


class TransientError(Exception):
    """A temporary failure (timeout, throttling); the pipeline retries it."""

    code = "transient_error"
