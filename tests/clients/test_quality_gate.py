"""The camera side of adaptive quality: the hub's target thins frames on slots of the hub's clock,
so synchronised cameras keep sending frames of the same moments."""

from __future__ import annotations

import numpy as np

from clients.quality import QualityGate
from formsync.wire.frames import QualityTarget

T0 = 1_796_000_000_123_456_789  # ns, hub clock
SOURCE_PERIOD_NS = 33_333_333  # a 30 fps source


def target(fps: float, width: int = 480, quality: int = 65) -> QualityTarget:
    return QualityTarget(tier=2, fps=fps, width=width, jpeg_quality=quality, reason="test", since_ns=T0)


def sent(gate: QualityGate, start_ns: int, frames: int = 300) -> list[int]:
    times = [start_ns + k * SOURCE_PERIOD_NS for k in range(frames)]
    return [t for t in times if gate.admit(t)]


def test_without_a_target_every_frame_goes_at_the_configured_size():
    gate = QualityGate(80, 960)
    assert len(sent(gate, T0, 30)) == 30 and gate.encoding() == (80, 960)
    gate.update(None)  # a hub with adaptive quality off answers no target
    assert gate.encoding() == (80, 960)


def test_the_target_sets_the_rate_and_only_lowers_width_and_quality():
    gate = QualityGate(70, 400)
    gate.update(target(10.0, width=480, quality=65))
    kept = sent(gate, T0)  # 10 s of a 30 fps source
    assert len(kept) == 100
    assert gate.encoding() == (65, 400)  # narrower than the target already: kept at 400 px
    gate.update(target(21.0))
    assert 205 <= len(sent(gate, T0 + 10 * 10**9)) <= 211


def test_two_synchronised_cameras_thinned_alike_send_the_same_moments():
    # Two cameras capturing at the same instants give or take 3 ms, their own clocks offset from
    # the hub's by different amounts, and the target reaching each at another frame (each gets it
    # in the answer to its own upload).
    a = QualityGate(80, None, to_hub_ns=lambda ns: ns + 5_000_000)
    b = QualityGate(80, None, to_hub_ns=lambda ns: ns - 40_000_000)
    sent_a, sent_b = [], []
    for k in range(300):
        if k == 1:
            a.update(target(10.0))
        if k == 3:
            b.update(target(10.0))
        hub_ns = T0 + k * SOURCE_PERIOD_NS
        if a.admit(hub_ns - 5_000_000) and k > 3:
            sent_a.append(hub_ns)
        if b.admit(hub_ns + 40_000_000 + 3_000_000) and k > 3:
            sent_b.append(hub_ns + 3_000_000)
    assert len(sent_a) == len(sent_b) and 98 <= len(sent_a) <= 100
    spread_ms = np.abs(np.array(sent_a) - np.array(sent_b)) / 1e6
    assert spread_ms.max() <= 3.5, spread_ms  # within the hub's 20 ms sync spread


def test_a_clock_stepped_back_does_not_stop_the_camera():
    now = [0]
    gate = QualityGate(80, None, to_hub_ns=lambda ns: ns + now[0])
    gate.update(target(10.0))
    assert sent(gate, T0, 30)
    now[0] = -60 * 10**9  # a new offset estimate a minute back
    assert len(sent(gate, T0 + 10**9, 30)) == 10
