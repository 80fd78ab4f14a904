"""Powertools loggers for every layer that logs, at the level KLIPSTAR_LOG_LEVEL sets."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from .settings import get_settings


def get_logger(service: str) -> Logger:
    """A JSON logger for `service` (powertools; correlation ids are appended by the callers)."""
    return Logger(service=service, level=get_settings().log_level.upper())
