"""The hub's monitoring: what operators watch and what alerts them.

- ``metrics``, ``http_metrics``: the Prometheus figures of ``GET /metrics`` (frames, latency,
  fps, sync spread, HTTP answers by status).
- ``heartbeats``: the registry of processes' heartbeats, lost after missed intervals.
- ``collector``, ``samples``: the hub's own host/process sample and the metric samples rules read.
- ``alerts``: rules with levels, hold times and hysteresis, evaluated on metric samples.
- ``alert_rules``: the default rules and their overrides (hub settings or a YAML file).
- ``alert_log``: fired and cleared alerts in the hub's SQLite file.
- ``monitor``: wiring into the app (heartbeat loop, lost processes, rule evaluation).
The monitoring API's wire models are in ``formsync.wire.monitoring``.
Host and process collectors and the heartbeat sender live in ``formsync`` (every role uses them).
"""
