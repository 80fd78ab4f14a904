"""Conditional writes: telling a failed condition apart from any other DynamoDB error."""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException


def condition_failed(exc: PynamoDBException) -> bool:
    """True when a write was refused because its ConditionExpression did not hold."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"
