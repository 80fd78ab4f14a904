"""Publishing errors: a stable machine-readable code, a one-line message, and whether a retry may help."""

from __future__ import annotations


class PublishError(Exception):
    """A publication could not be completed. Messages never contain tokens."""

    code = "publish_failed"
    retryable = False

    param: str | None = None  # the request field at fault, when the caller controls it (API `param`)
    restart = False  # the platform dropped the post: a retry uploads again instead of resuming the poll

    def __init__(self, message: str, *, code: str | None = None, retryable: bool | None = None,
                 param: str | None = None, restart: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.restart = restart
        if param:
            self.param = param
        if code:
            self.code = code
        if retryable is not None:
            self.retryable = retryable

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class LimitExceeded(PublishError):
    """The clip breaks a platform limit (size, duration, shape, privacy); checked before any upload."""

    code = "platform_limit"


class AuthFailed(PublishError):
    """The platform refused the account's tokens and refreshing did not help: reconnect the account."""

    code = "auth_failed"


class QuotaExceeded(PublishError):
    """The platform kept answering 429/quota errors past the retry budget (daily quotas: retryable=False)."""

    code = "quota_exceeded"
    retryable = True


class PlatformError(PublishError):
    """The platform rejected the request or failed processing the video."""

    code = "platform_error"


class UploadFailed(PublishError):
    """Bytes could not be transferred (network errors past the retry budget)."""

    code = "upload_failed"
    retryable = True


class Restricted(PublishError):
    """The platform restricted the account's publishing (e.g. Instagram's spam restriction): final."""

    code = "publishing_restricted"
