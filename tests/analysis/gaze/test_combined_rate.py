"""CombinedAnalyzer runs gaze at most gaze_fps times a second; frames between carry the last result."""

import numpy as np

from analysis.combined import CombinedAnalyzer


class FakePose:
    def analyze(self, image_bgr, *, seq, capture_time_ns):
        return {"pose_found": True, "landmarks": np.zeros((33, 4)).tolist(), "seq": seq}


class FakeGaze:
    def __init__(self) -> None:
        self.calls: list[int] = []
        self.calibrator = type("Cal", (), {"running": False})()

    def analyze(self, image_bgr, *, seq, capture_time_ns, person_found, pose_landmarks):
        self.calls.append(seq)
        return {"seq": seq}

    def start_calibration(self, duration_s=None, request_id=None):
        self.calibrator.running = True


FRAME = np.zeros((4, 4, 3), np.uint8)
MS = 1_000_000


def run(analyzer, seqs, period_ms=1000 / 30):
    return [analyzer.analyze(FRAME, seq=s, capture_time_ns=int(s * period_ms * MS))["gaze"]["seq"] for s in seqs]


def test_at_30_fps_gaze_runs_on_every_other_frame_and_the_rest_reuse_it():
    gaze = FakeGaze()
    shown = run(CombinedAnalyzer(FakePose(), gaze, gaze_fps=15), range(10))
    assert gaze.calls == [0, 2, 4, 6, 8]
    assert shown == [0, 0, 2, 2, 4, 4, 6, 6, 8, 8]


def test_zero_means_every_frame_and_slow_cameras_are_never_thinned():
    gaze = FakeGaze()
    run(CombinedAnalyzer(FakePose(), gaze, gaze_fps=0), range(6))
    assert gaze.calls == list(range(6))
    slow = FakeGaze()
    run(CombinedAnalyzer(FakePose(), slow, gaze_fps=15), range(6), period_ms=100)  # 10 fps camera
    assert slow.calls == list(range(6))


def test_calibration_and_time_going_back_force_a_fresh_gaze():
    gaze = FakeGaze()
    combined = CombinedAnalyzer(FakePose(), gaze, gaze_fps=15)
    run(combined, range(4))
    combined.start_calibration(2.0)
    run(combined, range(4, 8))
    assert gaze.calls == [0, 2, 4, 5, 6, 7]
    gaze.calibrator.running = False
    combined.analyze(FRAME, seq=100, capture_time_ns=0)  # camera restarted its clock
    assert gaze.calls[-1] == 100
