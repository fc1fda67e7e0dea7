import json

import httpx
from websockets.sync.client import connect


def test_reference_choice_round_trip_and_event(hub):
    with connect(hub.url.replace("http", "ws") + "/api/v1/events?types=reference") as ws, \
            httpx.Client(base_url=hub.url) as http:
        assert http.get("/api/v1/reference").json() == {"name": None}
        r = http.put("/api/v1/reference", json={"name": "deep_squat-2"})
        assert r.status_code == 200 and r.json() == {"name": "deep_squat-2"}
        assert json.loads(ws.recv(5)) == {"type": "reference", "name": "deep_squat-2"}
        assert http.get("/api/v1/reference").json() == {"name": "deep_squat-2"}


def test_bad_reference_name_is_a_422_and_changes_nothing(hub):
    with httpx.Client(base_url=hub.url) as http:
        for bad in ("../etc", "", "a" * 65, "with space"):
            r = http.put("/api/v1/reference", json={"name": bad})
            assert r.status_code == 422 and r.json()["error"]["code"], bad
        assert http.put("/api/v1/reference", json={"name": "ok", "extra": 1}).status_code == 422
        assert http.get("/api/v1/reference").json() == {"name": None}
