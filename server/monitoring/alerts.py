"""Alert rules and the engine that fires and clears them on metric samples.

A sample is ``{metric: {subject: value}}``, e.g. ``{"host_cpu_percent": {"hub-pc": 91.5}}``: one
value per subject (host, camera, process) of each metric in ``METRICS``. Each rule watches one
metric, separately for every subject, through three states:

- **ok** -> **pending** when the value breaches the threshold (``op``: ``>`` or ``<``);
- **pending** -> **firing** once it stayed breached for ``for_s`` (back to ok as soon as it does
  not: the hold time of Prometheus' ``for``);
- **firing** -> **ok** ("cleared") once the value stayed on the good side of ``clear_threshold``
  for ``clear_for_s``. ``clear_threshold`` sits on the good side of ``threshold`` (hysteresis), so
  a value hovering at the threshold does not fire and clear on every sample.

A firing subject with no sample for ``absent_clear_s`` (a camera or process forgotten, a host
whose collector went unavailable) clears with no value; a pending one resets at once.

The engine is pure (no clock, no I/O): callers pass the time. Not thread-safe: one owner.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Level = Literal["warning", "critical"]
LEVEL_ORDER = {"critical": 0, "warning": 1}


@dataclass(frozen=True, slots=True)
class Metric:
    """A metric rules may watch: its unit and what a subject is."""

    unit: str
    subject: str
    description: str


# Every metric the hub samples for its rules (server/monitor_samples.py builds them).
METRICS: dict[str, Metric] = {
    "host_cpu_percent": Metric("%", "host", "CPU busy share of all cores, 0-100 (heartbeats)."),
    "host_memory_percent": Metric("%", "host", "Memory in use, (total - available) / total, 0-100."),
    "host_disk_free_percent": Metric("%", "host", "Free disk space where the process works, 0-100."),
    "analysis_latency_ms": Metric(
        "ms", "camera", "p95 of capture -> analysis result at the hub over the last 10 s, ms."),
    "http_error_percent": Metric(
        "%", "hub", "Share of the hub's HTTP answers that failed (5xx, or 400/413/415/422: a payload "
                    "refused) over the last 60 s, 0-100; needs 20 requests in the window."),
    "event_queue_length": Metric("events", "hub", "Events waiting in all subscribers' queues together."),
    "camera_stale": Metric("", "camera", "1 while the camera sent no frame for stale_after_s, else 0."),
    "process_lost": Metric("", "process", "1 while a client or worker missed 3 heartbeats, else 0."),
    "worker_not_following": Metric(
        "", "process", "1 while a live analysis worker reports it does not follow the hub's events, else 0."),
}


class Rule(BaseModel):
    """One alert rule. Thresholds are in the metric's unit (``METRICS``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]{1,48}$", description="Rule id, e.g. `cpu_high`.")
    metric: str = Field(description="One of `METRICS`.")
    op: Literal[">", "<"] = Field(description="Fires when value op threshold.")
    threshold: float = Field(ge=-1e15, le=1e15, allow_inf_nan=False, description="In the metric's unit.")
    clear_threshold: float | None = Field(
        None, ge=-1e15, le=1e15, allow_inf_nan=False,
        description="Clears once the value is back on this side (<= for `>`, >= for `<`); "
                    "None: the threshold.")
    level: Level
    for_s: float = Field(0.0, ge=0, le=86_400, description="Hold time: breached this long before firing, s.")
    clear_for_s: float = Field(0.0, ge=0, le=86_400, description="Recovered this long before clearing, s.")
    enabled: bool = True
    summary: str = Field(
        "{metric} of {subject} is {value}{unit} ({op} {threshold}{unit})", max_length=200,
        description="Alert text; fields {subject}, {value}, {threshold}, {op}, {unit}, {metric}.")

    @model_validator(mode="after")
    def _hysteresis_on_the_good_side(self) -> Rule:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; one of {sorted(METRICS)}")
        c = self.clear
        if (self.op == ">" and c > self.threshold) or (self.op == "<" and c < self.threshold):
            side = "<=" if self.op == ">" else ">="
            raise ValueError(
                f"clear_threshold {c:g} must be {side} threshold {self.threshold:g} for op {self.op!r}")
        return self

    @property
    def clear(self) -> float:
        return self.threshold if self.clear_threshold is None else self.clear_threshold

    def breached(self, value: float) -> bool:
        return value > self.threshold if self.op == ">" else value < self.threshold

    def recovered(self, value: float) -> bool:
        return value <= self.clear if self.op == ">" else value >= self.clear

    def describe(self, subject: str, value: float | None) -> str:
        unit = METRICS[self.metric].unit
        try:
            return self.summary.format(subject=subject, value=format_value(value),
                                       threshold=format_value(self.threshold), op=self.op,
                                       unit=f" {unit}" if unit else "", metric=self.metric)
        except (KeyError, IndexError, ValueError):  # a custom summary with a bad field
            return f"{self.name} on {subject}: {format_value(value)}"


def format_value(value: float | None) -> str:
    """``"92.3"``; whole numbers and values from 1000 up without decimals; ``"n/a"`` for None."""
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.0f}" if abs(value) >= 1000 or float(value).is_integer() else f"{value:.1f}"


@dataclass(frozen=True, slots=True)
class Transition:
    """An alert fired or cleared. Times are ns since the epoch; ``since_ns`` is when it fired."""

    rule: str
    subject: str
    level: Level
    state: Literal["firing", "cleared"]
    value: float | None
    threshold: float | None
    time_ns: int
    since_ns: int
    message: str


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    """A firing alert with its newest value (None while its subject has no sample)."""

    rule: str
    subject: str
    level: Level
    since_ns: int
    value: float | None
    threshold: float
    message: str


@dataclass(slots=True)
class _State:
    pending_since_ns: int | None = None
    firing_since_ns: int | None = None
    clear_since_ns: int | None = None
    absent_since_ns: int | None = None
    value: float | None = None


class AlertEngine:
    """Evaluates ``rules`` (disabled ones are ignored) on successive samples.

    Args:
        rules: the rules; names must be unique.
        absent_clear_s: a firing alert whose subject has had no sample this long clears, s.
    Raises:
        ValueError: duplicate rule names.
    """

    def __init__(self, rules: Iterable[Rule], absent_clear_s: float = 10.0) -> None:
        rules = list(rules)
        names = [r.name for r in rules]
        if len(set(names)) != len(names):
            raise ValueError(f"rule names must be unique, got {names}")
        self.rules = {r.name: r for r in rules if r.enabled}
        self.all_rules = tuple(rules)
        self.absent_clear_ns = int(absent_clear_s * 1e9)
        self._states: dict[tuple[str, str], _State] = {}

    def evaluate(self, samples: Mapping[str, Mapping[str, float]], now_ns: int) -> list[Transition]:
        """Advance every rule to ``now_ns`` with these samples; returns what fired or cleared."""
        out: list[Transition] = []
        for rule in self.rules.values():
            values = {s: float(v) for s, v in samples.get(rule.metric, {}).items()
                      if v is not None and not math.isnan(v)}
            for subject in set(values) | {s for (r, s) in self._states if r == rule.name}:
                t = self._step(rule, subject, values.get(subject), now_ns)
                if t is not None:
                    out.append(t)
        return out

    def _step(self, rule: Rule, subject: str, value: float | None, now_ns: int) -> Transition | None:
        key = (rule.name, subject)
        st = self._states.get(key)
        if st is None:
            if value is None or not rule.breached(value):
                return None
            st = self._states[key] = _State()
        st.value = value
        if st.firing_since_ns is None:  # ok or pending
            if value is None or not rule.breached(value):
                del self._states[key]
                return None
            if st.pending_since_ns is None:
                st.pending_since_ns = now_ns
            if now_ns - st.pending_since_ns >= rule.for_s * 1e9:
                st.firing_since_ns = now_ns
                return self._transition(rule, subject, "firing", value, now_ns, now_ns)
            return None
        # firing
        if value is None:
            st.clear_since_ns = None
            st.absent_since_ns = st.absent_since_ns if st.absent_since_ns is not None else now_ns
            if now_ns - st.absent_since_ns >= self.absent_clear_ns:
                return self._clear(rule, subject, st, None, now_ns)
            return None
        st.absent_since_ns = None
        if not rule.recovered(value):
            st.clear_since_ns = None
            return None
        st.clear_since_ns = st.clear_since_ns if st.clear_since_ns is not None else now_ns
        if now_ns - st.clear_since_ns >= rule.clear_for_s * 1e9:
            return self._clear(rule, subject, st, value, now_ns)
        return None

    def _clear(self, rule: Rule, subject: str, st: _State, value: float | None, now_ns: int) -> Transition:
        del self._states[(rule.name, subject)]
        return self._transition(rule, subject, "cleared", value, now_ns, st.firing_since_ns)

    @staticmethod
    def _transition(rule: Rule, subject: str, state, value: float | None, now_ns: int,
                    since_ns: int) -> Transition:
        message = rule.describe(subject, value)
        if state == "cleared":
            message = f"cleared: {message}" if value is not None else f"cleared (no data for {subject})"
        return Transition(rule.name, subject, rule.level, state, value, rule.threshold, now_ns, since_ns,
                          message)

    def active(self) -> list[ActiveAlert]:
        """Firing alerts, critical first, then oldest first."""
        out = [
            ActiveAlert(name, subject, self.rules[name].level, st.firing_since_ns, st.value,
                        self.rules[name].threshold, self.rules[name].describe(subject, st.value))
            for (name, subject), st in self._states.items() if st.firing_since_ns is not None
        ]
        return sorted(out, key=lambda a: (LEVEL_ORDER[a.level], a.since_ns, a.rule, a.subject))

    def restore(self, firing: Iterable[tuple[str, str, Level, int, float | None]],
                now_ns: int) -> list[Transition]:
        """Resume alerts that were firing when the previous hub process stopped.

        ``firing`` holds ``(rule, subject, level, since_ns, value)``. They continue (and clear by
        the usual rules, or for lack of data after ``absent_clear_s``); those whose rule is gone or
        disabled are returned as cleared, for the caller to record.
        """
        out = []
        for name, subject, level, since_ns, value in firing:
            rule = self.rules.get(name)
            if rule is None:
                out.append(Transition(name, subject, level, "cleared", None, None, now_ns, since_ns,
                                      f"cleared: rule {name} is no longer configured"))
                continue
            self._states[(name, subject)] = _State(firing_since_ns=since_ns, value=value)
        return out
