"""Benchmarks; each module runs on its own, e.g. ``python -m bench.ingest`` (see bench/README.md)."""
