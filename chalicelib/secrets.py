"""Secrets from Secrets Manager on AWS: the key pepper, the object-store keys (R2) and the LLM API key.

The deployed functions get only the secrets' ARNs (`KLIPSTAR_*_SECRET`), never the values; the values
are read at cold start through aws-lambda-powertools' parameters utility (cached for `max_age`) and
filled into the settings. A value given directly (`KLIPSTAR_KEY_PEPPER`, ...; local mode and tests) wins
and nothing is fetched, so local runs never call AWS.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .settings import Settings

SECRET_MAX_AGE_SECONDS = 900


def fetch_secret(secret_id: str, region: str) -> str:
    """The secret's string value (powertools caches it for SECRET_MAX_AGE_SECONDS)."""
    import boto3
    from aws_lambda_powertools.utilities import parameters

    provider = parameters.SecretsProvider(boto3_client=boto3.client("secretsmanager", region_name=region))
    return str(provider.get(secret_id, max_age=SECRET_MAX_AGE_SECONDS))


def secret_values(settings: Settings) -> dict[str, Any]:
    """The settings fields to fill from Secrets Manager (empty when nothing is named or all are set)."""
    values: dict[str, Any] = {}
    if settings.key_pepper_secret and not settings.key_pepper:
        values["key_pepper"] = fetch_secret(settings.key_pepper_secret, settings.aws_region)
    if settings.llm_api_key_secret and not settings.llm_api_key:
        values["llm_api_key"] = fetch_secret(settings.llm_api_key_secret, settings.aws_region)
    if settings.s3_credentials_secret and not settings.s3_access_key_id:
        keys = json.loads(fetch_secret(settings.s3_credentials_secret, settings.aws_region))
        values["s3_access_key_id"] = keys["access_key_id"]
        values["s3_secret_access_key"] = keys["secret_access_key"]
    return values


def resolve_secrets(settings: Settings) -> Settings:
    """`settings` with every named secret's value filled in."""
    values = secret_values(settings)
    return dataclasses.replace(settings, **values) if values else settings
