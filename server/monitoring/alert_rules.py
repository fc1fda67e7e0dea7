"""The default alert rules and how operators change them.

Thresholds are the ones the operators asked for (CPU > 80 %, memory > 85 %, processing
latency > 500 ms, error rate > 5 %, event queue > 100, camera stale, disk free < 10 %, a client or
worker lost). Hold times and clear thresholds (hysteresis) are ours: long enough that a single busy
second or one slow frame does not page anyone, and each clear threshold a few units inside the
fire threshold so a value hovering there does not flap.

Overrides, per rule name, come from a YAML file (hub setting ``alert_rules_file``) and then the
hub setting ``alert_rules`` (env ``FORMSYNC_HUB_ALERT_RULES`` as JSON), later ones winning::

    # alerts.yaml
    rules:
      cpu_high: {threshold: 90, for_s: 60}      # change a default rule
      disk_low: {enabled: false}                # switch one off
      memory_critical:                          # a new rule on a known metric
        {metric: host_memory_percent, op: ">", threshold: 95, clear_threshold: 90, level: critical}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from server.monitoring.alerts import Rule

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(name="cpu_high", metric="host_cpu_percent", op=">", threshold=80, clear_threshold=70,
         level="warning", for_s=30, clear_for_s=10,
         summary="CPU {value} % on {subject} (above {threshold} %)"),
    Rule(name="memory_high", metric="host_memory_percent", op=">", threshold=85, clear_threshold=80,
         level="warning", for_s=30, clear_for_s=10,
         summary="memory {value} % used on {subject} (above {threshold} %)"),
    Rule(name="latency_high", metric="analysis_latency_ms", op=">", threshold=500, clear_threshold=400,
         level="warning", for_s=10, clear_for_s=10,
         summary="camera {subject}: processing latency p95 {value} ms (above {threshold} ms)"),
    Rule(name="error_rate_high", metric="http_error_percent", op=">", threshold=5, clear_threshold=2,
         level="critical", for_s=10, clear_for_s=10,
         summary="hub error rate {value} % (above {threshold} %)"),
    Rule(name="queue_long", metric="event_queue_length", op=">", threshold=100, clear_threshold=50,
         level="warning", for_s=5, clear_for_s=5,
         summary="{value} events queued for subscribers (above {threshold})"),
    Rule(name="camera_stale", metric="camera_stale", op=">", threshold=0.5, level="critical",
         summary="camera {subject} is stale: no frame arrives"),
    Rule(name="disk_low", metric="host_disk_free_percent", op="<", threshold=10, clear_threshold=15,
         level="warning", for_s=60, clear_for_s=10,
         summary="disk {value} % free on {subject} (below {threshold} %)"),
    Rule(name="process_lost", metric="process_lost", op=">", threshold=0.5, level="critical",
         summary="{subject} lost: no heartbeat for 3 intervals"),
    # Alive yet analysing nothing. The hold lets a worker reconnect after a hub restart unnoticed.
    Rule(name="worker_not_following", metric="worker_not_following", op=">", threshold=0.5, level="critical",
         for_s=10, summary="{subject} does not follow the hub: it analyses no new frame"),
)


class AlertConfigError(ValueError):
    """A rule file or override that cannot be used; the message names the rule and field."""


def read_rules_file(path: str | Path) -> dict[str, dict[str, Any]]:
    """The ``rules`` mapping of a YAML file. Raises AlertConfigError."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise AlertConfigError(f"cannot read alert rules file {path}: {exc}") from None
    if not isinstance(data, dict) or set(data) - {"rules"} or not isinstance(data.get("rules", {}), dict):
        raise AlertConfigError(
            f"{path}: expected a mapping with one key, 'rules', mapping rule names to fields")
    return data.get("rules") or {}


def build_rules(*overrides: Mapping[str, Mapping[str, Any]],
                defaults: tuple[Rule, ...] = DEFAULT_RULES) -> list[Rule]:
    """Apply each override mapping (rule name -> fields) in turn to ``defaults``.

    A known name changes only the fields given; a new name needs a complete rule (``metric``,
    ``op``, ``threshold``, ``level``). Raises AlertConfigError naming the rule and the problem.
    """
    rules = {r.name: r for r in defaults}
    for mapping in overrides:
        for name, fields in mapping.items():
            if not isinstance(fields, Mapping):
                raise AlertConfigError(f"alert rule {name!r}: expected a mapping of fields, got {fields!r}")
            base = rules[name].model_dump() if name in rules else {}
            try:
                rules[name] = Rule.model_validate({**base, **fields, "name": name})
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'rule'}: {e['msg']}"
                                     for e in exc.errors())
                raise AlertConfigError(f"alert rule {name!r}: {problems}") from None
    return list(rules.values())


def load_rules(rules_file: str | Path | None = None,
               overrides: Mapping[str, Mapping[str, Any]] | None = None) -> list[Rule]:
    """Defaults, then the YAML file's rules, then ``overrides`` (the hub setting)."""
    layers = []
    if rules_file:
        layers.append(read_rules_file(rules_file))
    if overrides:
        layers.append(overrides)
    return build_rules(*layers)
