"""Thin Dagster wrappers over the domain code (ingest, normalize, summarize), grouped by domain."""
