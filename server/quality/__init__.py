"""Adaptive quality: the hub lowers each camera's frame rate, width and JPEG quality when the
analysis worker, the ingest or the hub's machine falls behind, and raises them again with headroom
(``policy``: the controller; ``service``: its signals and the answers that carry its targets)."""
