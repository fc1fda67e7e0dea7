"""The alert engine on synthetic metric series: hold times, hysteresis, levels, absent data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.monitoring.alert_rules import DEFAULT_RULES, AlertConfigError, build_rules, load_rules
from server.monitoring.alerts import AlertEngine, Rule

S = 1_000_000_000  # ns per second


def cpu_rule(**kw) -> Rule:
    fields = dict(name="cpu_high", metric="host_cpu_percent", op=">", threshold=80, clear_threshold=70,
                  level="warning", for_s=30, clear_for_s=10)
    return Rule(**{**fields, **kw})


def run(engine: AlertEngine, series: list[tuple[float, float | None]], metric="host_cpu_percent",
        subject="hub-pc"):
    """Feed ``(time_s, value)`` samples (None: no sample); returns ``[(time_s, state)]``."""
    out = []
    for t, v in series:
        samples = {metric: {subject: v}} if v is not None else {}
        out += [(t, tr.state) for tr in engine.evaluate(samples, int(t * S))]
    return out


def every_second(start: int, stop: int, value: float) -> list[tuple[float, float]]:
    return [(t, value) for t in range(start, stop)]


def test_fires_only_once_the_breach_held_for_the_hold_time():
    engine = AlertEngine([cpu_rule()])
    events = run(engine, every_second(0, 29, 95.0))
    assert events == [] and engine.active() == []  # 28 s of breach: still pending
    events = run(engine, every_second(29, 40, 95.0))
    assert events == [(30, "firing")]  # exactly when 30 s had passed, and only once
    [alert] = engine.active()
    assert (alert.rule, alert.subject, alert.level, alert.since_ns, alert.value) == \
        ("cpu_high", "hub-pc", "warning", 30 * S, 95.0)
    assert alert.message == "host_cpu_percent of hub-pc is 95 % (> 80 %)"


def test_a_dip_below_the_threshold_restarts_the_hold():
    engine = AlertEngine([cpu_rule()])
    series = every_second(0, 25, 95.0) + [(25, 79.0)] + every_second(26, 60, 95.0)
    assert run(engine, series) == [(56, "firing")]  # 30 s after the breach resumed at 26 s


def test_clears_only_below_the_clear_threshold_and_after_the_clear_hold():
    engine = AlertEngine([cpu_rule()])
    run(engine, every_second(0, 31, 95.0))
    # Between clear (70) and fire (80) thresholds: hysteresis keeps it firing however long.
    assert run(engine, every_second(31, 120, 75.0)) == []
    assert engine.active()[0].value == 75.0
    # Below 70 for 10 s clears it; a bounce back to 75 at 125 s restarts the clear hold.
    series = every_second(120, 125, 60.0) + [(125, 75.0)] + every_second(126, 140, 60.0)
    assert run(engine, series) == [(136, "cleared")]
    assert engine.active() == []


def test_a_value_hovering_at_the_threshold_does_not_flap():
    engine = AlertEngine([cpu_rule(for_s=0, clear_for_s=0)])
    series = [(t, 81.0 if t % 2 else 79.0) for t in range(0, 100)]
    assert run(engine, series) == [(1, "firing")]  # 79 is above the clear threshold 70


def test_below_rules_fire_under_the_threshold():
    [disk] = [r for r in DEFAULT_RULES if r.name == "disk_low"]
    engine = AlertEngine([disk])
    series = every_second(0, 5, 50.0) + every_second(5, 70, 8.0) + every_second(70, 75, 12.0) + \
        every_second(75, 90, 20.0)
    # Fires 60 s after dropping under 10 %; 12 % is inside the hysteresis band (clear at 15 %).
    assert run(engine, series, metric="host_disk_free_percent") == [(65, "firing"), (85, "cleared")]


def test_each_subject_has_its_own_state():
    engine = AlertEngine([cpu_rule(for_s=2, clear_for_s=0)])
    for t in range(0, 5):
        engine.evaluate({"host_cpu_percent": {"a": 90.0, "b": 90.0 if t >= 2 else 10.0}}, t * S)
    assert [(a.subject, a.since_ns) for a in engine.active()] == [("a", 2 * S), ("b", 4 * S)]


def test_levels_of_the_default_rules():
    levels = {r.name: (r.level, r.metric, r.op, r.threshold) for r in DEFAULT_RULES}
    assert levels == {
        "cpu_high": ("warning", "host_cpu_percent", ">", 80),
        "memory_high": ("warning", "host_memory_percent", ">", 85),
        "latency_high": ("warning", "analysis_latency_ms", ">", 500),
        "error_rate_high": ("critical", "http_error_percent", ">", 5),
        "queue_long": ("warning", "event_queue_length", ">", 100),
        "camera_stale": ("critical", "camera_stale", ">", 0.5),
        "disk_low": ("warning", "host_disk_free_percent", "<", 10),
        "process_lost": ("critical", "process_lost", ">", 0.5),
        "worker_not_following": ("critical", "worker_not_following", ">", 0.5),
    }
    engine = AlertEngine(DEFAULT_RULES)
    engine.evaluate({"camera_stale": {"front": 1.0}, "process_lost": {"client:pc:front": 1.0},
                     "host_cpu_percent": {"pc": 99.0}, "analysis_latency_ms": {"front": 900.0}}, 0)
    # Boolean rules fire at once; the numeric ones wait for their hold time. Critical first.
    assert [(a.rule, a.level) for a in engine.active()] == [("camera_stale", "critical"),
                                                             ("process_lost", "critical")]
    engine.evaluate({"camera_stale": {"front": 0.0}, "process_lost": {"client:pc:front": 1.0},
                     "host_cpu_percent": {"pc": 99.0}, "analysis_latency_ms": {"front": 900.0}}, 31 * S)
    assert [(a.rule, a.level) for a in engine.active()] == [
        ("process_lost", "critical"), ("cpu_high", "warning"), ("latency_high", "warning")]


def test_a_firing_alert_without_samples_clears_after_the_absent_delay():
    engine = AlertEngine([cpu_rule(for_s=0)], absent_clear_s=10)
    series = [(0, 95.0)] + [(t, None) for t in range(1, 15)]
    assert run(engine, series) == [(0, "firing"), (11, "cleared")]
    # A pending one resets at once: the hold starts again when samples return.
    engine = AlertEngine([cpu_rule(for_s=5)])
    series = every_second(0, 4, 95.0) + [(4, None)] + every_second(5, 12, 95.0)
    assert run(engine, series) == [(10, "firing")]


def test_restored_alerts_continue_and_unknown_rules_are_cleared():
    engine = AlertEngine([cpu_rule(clear_for_s=0)])
    gone = engine.restore([("cpu_high", "hub-pc", "warning", 5 * S, 91.0),
                           ("old_rule", "x", "critical", 6 * S, 1.0)], now_ns=100 * S)
    assert [(t.rule, t.state, t.level, t.since_ns) for t in gone] == \
        [("old_rule", "cleared", "critical", 6 * S)]
    assert [(a.rule, a.since_ns) for a in engine.active()] == [("cpu_high", 5 * S)]
    assert engine.evaluate({"host_cpu_percent": {"hub-pc": 50.0}}, 101 * S)[0].since_ns == 5 * S


def test_disabled_rules_never_fire():
    engine = AlertEngine([cpu_rule(for_s=0, enabled=False)])
    assert run(engine, every_second(0, 5, 99.0)) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 100)), min_size=1, max_size=120),
       st.integers(0, 5), st.integers(0, 5))
def test_transitions_alternate_and_respect_the_hold_time(values, for_s, clear_for_s):
    """Whatever the series: firing and cleared alternate, each firing follows at least ``for_s``
    of breach, and each numeric clear follows ``clear_for_s`` at or below the clear threshold."""
    rule = cpu_rule(for_s=for_s, clear_for_s=clear_for_s)
    engine = AlertEngine([rule], absent_clear_s=3)
    series = list(enumerate(values))
    events = run(engine, series)
    alternating = ["firing", "cleared"] * (len(events) // 2) + ["firing"] * (len(events) % 2)
    assert [s for _, s in events] == alternating
    by_time = dict(series)
    for t, state in events:
        window = [by_time[x] for x in range(t - (for_s if state == "firing" else clear_for_s), t + 1)]
        if state == "firing":
            assert all(v is not None and v > rule.threshold for v in window)
        elif by_time[t] is not None:
            assert all(v is not None and v <= rule.clear for v in window)


def test_rule_validation_names_the_problem():
    with pytest.raises(ValueError, match="clear_threshold 90 must be <= threshold 80"):
        cpu_rule(clear_threshold=90)
    with pytest.raises(ValueError, match="unknown metric 'gpu'"):
        cpu_rule(metric="gpu")
    with pytest.raises(ValueError, match="unique"):
        AlertEngine([cpu_rule(), cpu_rule()])


def test_overrides_from_settings_and_a_yaml_file(tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text("rules:\n  cpu_high: {threshold: 90, clear_threshold: 85}\n  disk_low: {enabled: false}\n"
                    "  memory_critical:\n"
                    "    {metric: host_memory_percent, op: '>', threshold: 95, level: critical}\n")
    rules = {r.name: r for r in load_rules(path, {"cpu_high": {"for_s": 5}})}
    assert (rules["cpu_high"].threshold, rules["cpu_high"].clear, rules["cpu_high"].for_s) == (90, 85, 5)
    assert rules["cpu_high"].level == "warning"  # untouched fields keep their defaults
    assert not rules["disk_low"].enabled
    assert rules["memory_critical"].level == "critical" and len(rules) == len(DEFAULT_RULES) + 1

    with pytest.raises(AlertConfigError,
                       match=r"alert rule 'cpu_high': threshold: Input should be a valid number"):
        build_rules({"cpu_high": {"threshold": "high"}})
    with pytest.raises(AlertConfigError, match=r"alert rule 'new_rule': metric: Field required"):
        build_rules({"new_rule": {"threshold": 1}})
    path.write_text("cpu_high: {threshold: 90}\n")
    with pytest.raises(AlertConfigError, match="one key, 'rules'"):
        load_rules(path)
    with pytest.raises(AlertConfigError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")
