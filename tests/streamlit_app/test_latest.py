import threading

from streamlit_app.latest import Latest


def test_empty_reads_version_zero():
    assert Latest().read() == (0, None)


def test_put_replaces_and_reading_does_not_consume():
    q = Latest()
    q.put("a")
    q.put("b")
    # Two sessions reading the same queue both see the newest item.
    assert q.read() == (2, "b")
    assert q.read() == (2, "b")
    assert q.replaced == 1


def test_replaced_unread_counts_only_items_nobody_saw():
    q = Latest()
    q.put(1)
    q.put(2)  # 1 was never read
    q.read()
    q.put(3)  # 2 was read
    assert (q.replaced, q.replaced_unread) == (2, 1)


def test_wait_newer_times_out_without_a_put():
    q = Latest()
    q.put("x")
    assert q.wait_newer(1, timeout=0.05) is None


def test_wait_newer_wakes_on_a_put_from_another_thread():
    q = Latest()
    waiting = threading.Event()
    got = []

    def reader():
        waiting.set()
        got.append(q.wait_newer(0, timeout=5))

    t = threading.Thread(target=reader)
    t.start()
    assert waiting.wait(5)
    q.put("frame")
    t.join(5)
    assert got == [(1, "frame")]
