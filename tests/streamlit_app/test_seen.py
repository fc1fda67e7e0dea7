from streamlit_app.live.seen import SeenFrames


def test_observe_reports_only_new_versions():
    seen = SeenFrames()
    assert not seen.observe("a", 0, 0.0)  # nothing yet
    assert seen.observe("a", 1, 0.0)
    assert not seen.observe("a", 1, 0.1)
    assert seen.observe("a", 3, 0.2)
    assert seen.observe("b", 3, 0.2)  # cameras are independent


def test_shown_fps_counts_new_versions_in_the_window():
    seen = SeenFrames(window_s=1.0)
    for i in range(1, 11):
        seen.observe("a", i, i * 0.1)
    assert seen.shown_fps("a", 1.0) == 10.0
    assert seen.shown_fps("a", 1.55) == 5.0  # only 0.6 s .. 1.0 s remain
    assert seen.shown_fps("b", 1.0) == 0.0
