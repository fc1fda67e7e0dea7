"""The Live page's helpers."""
