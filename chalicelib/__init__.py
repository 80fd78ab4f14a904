"""Klipstar: the Chalice app's library (HTTP layer, data layer, engine, pipeline, local runtime)."""
