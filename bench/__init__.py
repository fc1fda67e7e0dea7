"""Benchmarks; each module runs on its own, e.g. ``python bench/ingest.py`` (see bench/README.md)."""
