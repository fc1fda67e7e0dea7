from analysis.fusion import fuse, match_reps

S = 10**9


def rep(start_s, end_s, view, *faults):
    return {"start_time_ns": int(start_s * S), "end_time_ns": int(end_s * S), "view": view,
            "faults": [{"code": c, "severity": sev, "cue": "", "view": view} for c, sev in faults]}


def test_overlapping_reps_of_two_views_fuse_and_each_check_comes_from_its_view():
    side = [rep(0.0, 2.0, "side", ("forward_lean", "warning")), rep(4.0, 6.0, "side")]
    front = [rep(0.1, 2.2, "front", ("knees_caving", "critical")), rep(4.05, 5.9, "front", ("asymmetry", "warning"))]
    fused = fuse({"side": side, "front": front})
    assert len(fused) == 2
    first, second = fused
    assert set(first.reps) == {"side", "front"}
    assert [(cam, f["code"]) for cam, f in first.faults] == [("front", "knees_caving"), ("side", "forward_lean")]
    assert first.unavailable == [] and (first.start_ns, first.end_ns) == (0, int(2.2 * S))
    assert [(cam, f["code"]) for cam, f in second.faults] == [("front", "asymmetry")]


def test_single_side_camera_reports_front_checks_unavailable():
    (only,) = fuse({"side": [rep(0, 2, "side")]})
    assert set(only.unavailable) == {"knees_caving", "asymmetry"}


def test_fault_from_an_unsuitable_view_is_dropped():
    (only,) = fuse({"side": [rep(0, 2, "side", ("forward_lean", "critical"), ("knees_caving", "warning"))]})
    assert [f["code"] for _, f in only.faults] == ["forward_lean"]


def test_low_confidence_flag_yields_to_a_camera_that_sees_the_check_clearly():
    front_lean = rep(0, 2, "front", ("forward_lean", "warning"))
    (both,) = fuse({"front": [front_lean], "side": [rep(0.1, 2.1, "side")]})
    assert both.faults == []  # the side camera sees the trunk clearly and raised nothing
    (alone,) = fuse({"front": [front_lean]})
    assert [(cam, f["code"]) for cam, f in alone.faults] == [("front", "forward_lean")]


def test_reps_are_matched_by_midpoint_within_the_maximum_spread():
    # Midpoints 1.0 s and 1.9 s: 0.9 s apart, beyond the 0.75 s bound.
    assert len(match_reps({"a": [rep(0, 2, "side")], "b": [rep(1.0, 2.8, "front")]})) == 2
    # Midpoints 1.0 s and 1.6 s.
    assert len(match_reps({"a": [rep(0, 2, "side")], "b": [rep(0.8, 2.4, "front")]})) == 1


def test_each_rep_is_used_once_and_the_closest_partner_wins():
    a = [rep(0, 2, "side"), rep(2.2, 4.2, "side")]  # midpoints 1.0, 3.2
    b = [rep(2.1, 4.1, "front")]  # midpoint 3.1: closer to a's second rep
    groups = match_reps({"a": a, "b": b})
    assert [sorted(g) for g in groups] == [["a"], ["a", "b"]]
    assert groups[1]["a"] is a[1]


def test_one_camera_never_appears_twice_in_a_group():
    groups = match_reps({"a": [rep(0, 2, "side"), rep(0.5, 2.5, "side")]})
    assert [list(g) for g in groups] == [["a"], ["a"]]


def test_most_severe_verdict_wins_when_two_suitable_cameras_disagree():
    (only,) = fuse({"s1": [rep(0, 2, "side", ("forward_lean", "warning"))],
                    "s2": [rep(0, 2, "side", ("forward_lean", "critical"))]})
    assert only.faults == [("s2", {"code": "forward_lean", "severity": "critical", "cue": "", "view": "side"})]
