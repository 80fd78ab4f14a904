"""Local fake platform servers for publishing tests."""
