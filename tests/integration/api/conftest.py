"""Fixtures for API integration tests: the unit area's moto world and API environment, reused as they are."""

from tests.unit.api.conftest import aws_role, env

__all__ = ["aws_role", "env"]
