"""The lease endpoints on a real hub, embedded and on Redis: a takeover closes the dead worker's
open set as ``worker_lost``; bad bodies are 422s naming the field."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.server.test_sets_api import a_set
from tests.support import RunningHub


@pytest.fixture(params=["embedded", "redis"])
def lease_hub(request, tmp_path):
    extra = {"redis_url": request.getfixturevalue("redis_url")} if request.param == "redis" else {}
    with RunningHub(db_path=str(tmp_path / "hub.db"), **extra) as hub:
        yield hub


def claim(worker, instance, ttl_ms=5000, max_cameras=8):
    return {"worker_id": worker, "instance": instance, "ttl_ms": ttl_ms, "max_cameras": max_cameras}


def test_takeover_closes_the_lost_workers_open_set(lease_hub):
    with httpx.Client(base_url=f"{lease_hub.url}/api/v1") as http:
        granted = http.post("/leases/front", json=claim("w-a", "aaaaaaaa", ttl_ms=300)).json()
        assert granted["granted"] and granted["worker_id"] == "w-a"
        open_set = a_set(status="open", reps=2)
        http.put("/cameras/front/set", json=open_set).raise_for_status()
        refused = http.post("/leases/front", json=claim("w-b", "bbbbbbbb")).json()
        assert (refused["granted"], refused["reason"], refused["worker_id"]) == (False, "held", "w-a")
        deadline = time.monotonic() + 3
        while http.get("/leases").json()["leases"]:  # w-a renews no more: its lease runs out
            assert time.monotonic() < deadline
            time.sleep(0.02)
        taken = http.post("/leases/front", json=claim("w-b", "bbbbbbbb")).json()
        assert taken["granted"] and taken["taken_over_from"] == "w-a"
        closed = http.get(f"/sets/{open_set['set_id']}").json()
        assert (closed["status"], closed["end_reason"], closed["reps"]) == ("closed", "worker_lost", 2)
        listed = http.get("/leases").json()
        assert [(lease["camera_id"], lease["worker_id"]) for lease in listed["leases"]] == [("front", "w-b")]
        assert {w["worker_id"]: w["cameras"] for w in listed["workers"]}["w-b"] == 1
        renewed = http.post("/leases/renew", json={**claim("w-b", "bbbbbbbb"), "camera_ids": ["front", "side"]})
        assert renewed.json() == {"held": ["front"], "lost": ["side"]}
        assert http.request("DELETE", "/leases/front", json={"worker_id": "w-a", "instance": "aaaaaaaa"}
                            ).json() == {"released": False}
        assert http.request("DELETE", "/leases/front", json={"worker_id": "w-b", "instance": "bbbbbbbb"}
                            ).json() == {"released": True}
        assert http.get("/leases").json()["leases"] == []


def test_a_malformed_claim_is_a_422_naming_the_field(lease_hub):
    with httpx.Client(base_url=f"{lease_hub.url}/api/v1") as http:
        bad = http.post("/leases/front", json=claim("w-a", "not-hex"))
        assert bad.status_code == 422
        assert "instance" in bad.text
        assert http.post("/leases/front", json=claim("w-a", "aaaaaaaa", ttl_ms=10)).status_code == 422
        assert http.post("/leases/bad%20id", json=claim("w-a", "aaaaaaaa")).status_code == 422
        assert http.get("/leases").json()["leases"] == []
