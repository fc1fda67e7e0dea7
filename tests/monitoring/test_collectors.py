"""Host and process collectors on live psutil data: invariants (after glances' checks), caching,
and a failing collector that is disabled instead of breaking the sample."""

from __future__ import annotations

import collections
import os
import socket
import threading
import time

import psutil

from formsync.host import FIELDS, HostCollector
from formsync.process import ProcessCollector


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_host_sample_invariants_on_live_data(tmp_path):
    clock = FakeClock()
    host = HostCollector(str(tmp_path), max_age_s=0.5, clock=clock)
    first = host.sample()
    threading.Event().wait(0.2)  # real time passes for the counters; the fake clock says 1 s
    clock.now += 1.0
    s = host.sample()
    assert set(FIELDS) | {"hostname", "unavailable"} == set(s)
    assert s["hostname"] == socket.gethostname()
    for field in ("cpu_percent", "memory_percent", "disk_free_percent"):
        assert 0 <= s[field] <= 100, (field, s[field])
    assert s["cpu_count"] == psutil.cpu_count() >= 1
    assert 0 < s["memory_used_bytes"] <= s["memory_total_bytes"]
    assert s["disk_path"] == str(tmp_path)
    assert 0 <= s["disk_free_bytes"] <= psutil.disk_usage(str(tmp_path)).total
    assert s["load_1m"] >= 0
    # Network rates need two samples: none on the first, non-negative afterwards.
    assert first["net_sent_bytes_per_s"] is None and first["net_recv_bytes_per_s"] is None
    assert s["net_sent_bytes_per_s"] >= 0 and s["net_recv_bytes_per_s"] >= 0
    if s["temperature_c"] is None:
        assert "temperature" in s["unavailable"]
    else:
        assert -60 <= s["temperature_c"] <= 250


def test_host_sample_is_cached_for_max_age(monkeypatch):
    clock = FakeClock()
    host = HostCollector(max_age_s=1.0, clock=clock)
    calls = []
    real = psutil.virtual_memory
    monkeypatch.setattr(psutil, "virtual_memory", lambda: calls.append(1) or real())
    a = host.sample()
    clock.now += 0.9
    b = host.sample()
    assert a == b and len(calls) == 1
    b["cpu_percent"] = -1  # callers get their own copy
    assert host.sample()["cpu_percent"] != -1
    clock.now += 0.2
    host.sample()
    assert len(calls) == 2


def test_a_failing_collector_is_disabled_and_the_rest_still_reported(monkeypatch, caplog):
    calls = []

    def broken():
        calls.append(1)
        raise OSError("no /proc/meminfo")

    monkeypatch.setattr(psutil, "virtual_memory", broken)
    clock = FakeClock()
    host = HostCollector(max_age_s=0.1, clock=clock)
    s = host.sample()
    assert s["memory_percent"] is None and s["memory_total_bytes"] is None
    assert "memory" in s["unavailable"] and "OSError" in host.disabled["memory"]
    assert 0 <= s["cpu_percent"] <= 100 and s["disk_free_percent"] is not None
    assert "memory collector failed" in caplog.text
    clock.now += 1
    host.sample()
    assert len(calls) == 1  # disabled: not retried on every sample


def test_process_sample_invariants_and_cpu_of_a_busy_thread():
    proc = ProcessCollector(max_age_s=0.01)
    stop = time.perf_counter() + 0.4

    def spin() -> None:
        while time.perf_counter() < stop:
            pass

    busy = threading.Thread(target=spin, name="test-spin")
    busy.start()
    busy.join()
    s = proc.sample()
    assert s["pid"] == os.getpid() and s["name"] == psutil.Process().name()
    # 0.4 s of one busy thread is measurable, and a share of the whole machine stays <= 100.
    assert 0 < s["cpu_percent"] <= 100
    assert 10_000_000 < s["rss_bytes"] < psutil.virtual_memory().total  # an interpreter with numpy loaded
    assert s["threads"] >= 1 and s["unavailable"] == []


def test_temperature_is_the_hottest_plausible_sensor(monkeypatch):
    sensor = collections.namedtuple("shwtemp", "label current high critical")
    readings = {"acpitz": [sensor("", -273.2, None, None), sensor("", 47.5, None, None)],
                "coretemp": [sensor("Package id 0", 61.0, 80.0, 100.0),
                             sensor("Core 0", 65535.0, None, None)]}
    monkeypatch.setattr(psutil, "sensors_temperatures", lambda: readings, raising=False)
    assert HostCollector().sample()["temperature_c"] == 61.0  # placeholders -273 and 65535 ignored
    monkeypatch.setattr(psutil, "sensors_temperatures", lambda: {}, raising=False)
    s = HostCollector().sample()
    assert s["temperature_c"] is None and "temperature" in s["unavailable"]
