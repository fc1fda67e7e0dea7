"""The wire contract: every hub route takes and answers ``formsync.wire`` models, every field says
what it is and how far it may go, readers tolerate what a newer hub adds while the hub refuses what
it does not know, and every event a running hub sends is one of ``formsync.wire.events``' models."""

from __future__ import annotations

import inspect
import json
import threading
import time
import types
import typing

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, TypeAdapter, ValidationError
from websockets.sync.client import connect

from analysis.reps import Phase
from formsync.wire import analysis, errors, events, frames, gaze, monitoring, references, sets, sync
from formsync.wire.base import Wire, read
from server.app import create_app
from server.settings import HubSettings
from tests.streamlit_app.conftest import post_frame
from tests.support import RunningHub, wait_until

MODULES = (analysis, errors, events, frames, gaze, monitoring, references, sets, sync)
MODELS = sorted({m for mod in MODULES for m in vars(mod).values()
                 if inspect.isclass(m) and issubclass(m, Wire) and m is not Wire}, key=lambda m: m.__name__)


def _models_in(annotation) -> list[type[BaseModel]]:
    """The pydantic models an annotation names, at any depth (``list[X] | None`` -> [X])."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def test_every_route_takes_and_answers_wire_models():
    app = create_app(HubSettings())
    checked = 0
    for route in (c.route for c in iter_route_contexts(app.routes)):  # included routers, flattened
        if not isinstance(route, APIRoute):
            continue
        used = _models_in(route.response_model)
        if route.body_field is not None:
            used += _models_in(route.body_field.field_info.annotation)
        for spec in (route.responses or {}).values():
            used += _models_in(spec.get("model"))
        for model in used:
            assert model.__module__.startswith("formsync.wire."), (route.path, model)
        checked += bool(used)
    assert checked >= 18  # every JSON route of docs/api.md
    schema = app.openapi()["components"]["schemas"]
    assert {"AnalysisIn", "SetIn", "HeartbeatIn", "ErrorOut", "ReferenceOut"} <= set(schema)


def _is_number(annotation) -> bool:
    if annotation in (int, float):
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return all(_is_number(a) for a in typing.get_args(annotation) if a is not type(None))
    return False


def _bounded(info) -> bool:
    return any(hasattr(m, attr) for m in info.metadata for attr in ("ge", "gt", "le", "lt"))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_has_a_description_and_numbers_have_bounds(model):
    for name, info in model.model_fields.items():
        assert info.description, f"{model.__name__}.{name} has no description"
        if _is_number(info.annotation):
            assert _bounded(info), f"{model.__name__}.{name} is a number without bounds"


def test_the_rep_phase_is_what_the_rep_counter_emits():
    assert set(typing.get_args(analysis.RepPhase)) == {p.value for p in Phase}


RESULT = {"seq": 3, "capture_time_ns": 10**18, "processing_ms": 12.5, "pose_found": False,
          "rep": {"count": 1, "phase": "top", "rep_scores": [88.0]}}


def test_a_reader_ignores_unknown_fields_at_every_depth_where_the_model_refuses_them():
    newer = {**RESULT, "camera_id": "side", "hub_receive_time_ns": 10**18 + 5, "latency_ms": 5.0,
             "future": {"x": 1}, "rep": {**RESULT["rep"], "tempo_s": 2.1},
             "faults": [{"code": "knees_caving", "severity": "warning", "cue": "Knees out.", "torque": 3}]}
    got = read(analysis.AnalysisOut, json.dumps(newer))
    assert got.rep.phase == "top" and got.faults[0].code == "knees_caving"
    assert read(analysis.AnalysisOut, newer) == got
    with pytest.raises(ValidationError) as err:
        analysis.AnalysisOut.model_validate(newer)
    assert {e["loc"] for e in err.value.errors()} == {("future",), ("rep", "tempo_s"), ("faults", 0, "torque")}


def test_a_reader_still_refuses_a_field_out_of_bounds():
    with pytest.raises(ValidationError):
        read(analysis.AnalysisIn, {**RESULT, "rep": {"count": 1, "phase": "standing"}})


def test_error_bodies_are_read_in_one_place():
    body = json.dumps({"error": {"code": "rate_limited", "message": "slow down", "details": {"retry_after_s": 0.5},
                                 "request_id": "r1", "hint": "newer field"}})
    err = errors.parse_error(429, body.encode())
    assert (err.code, err.message, err.details, err.request_id) == ("rate_limited", "slow down",
                                                                      {"retry_after_s": 0.5}, "r1")
    proxy = errors.parse_error(502, b"<html>Bad Gateway</html>")
    assert proxy.code == "http_502" and "Bad Gateway" in proxy.message


def test_the_hub_refuses_an_unknown_field_in_what_it_accepts(hub, clip_jpegs):
    post_frame(hub.url, "side", 0, clip_jpegs[0])
    r = httpx.post(f"{hub.url}/api/v1/cameras/side/analysis",
                   json={**RESULT, "rep": {**RESULT["rep"], "tempo_s": 2.1}})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["problems"][0]["loc"] == ["body", "rep", "tempo_s"]


STRICT_EVENT = TypeAdapter(events.Event)


def test_every_event_the_hub_sends_is_a_wire_event(clip_jpegs, reference_bundles):
    from tests.server.test_reference_api import put, repacked

    with RunningHub(stale_after_s=0.5, analysis_stale_after_s=0.5, heartbeat_interval_s=0.5) as hub, \
            connect(hub.url.replace("http", "ws", 1) + "/api/v1/events", open_timeout=5) as ws:
        received: list[str] = []
        done = threading.Event()

        def read_all() -> None:
            try:
                while not done.is_set():
                    received.append(ws.recv(timeout=5))
            except Exception:  # the socket closes with the hub
                pass

        reader = threading.Thread(target=read_all, daemon=True)
        reader.start()
        now = time.time_ns()
        for seq in range(3):
            for cam in ("side", "front"):
                post_frame(hub.url, cam, seq, clip_jpegs[seq], now + seq * 33_000_000)
        assert httpx.post(f"{hub.url}/api/v1/cameras/side/analysis",
                          json={**RESULT, "seq": 2, "capture_time_ns": now + 66_000_000}).status_code == 201
        set_body = {"set_id": "a" * 32, "status": "closed", "end_reason": "rest", "started_at_ns": now,
                    "ended_at_ns": now + 10**9, "reps": 1, "mean_score": 90.0}
        assert httpx.put(f"{hub.url}/api/v1/cameras/side/set", json=set_body).status_code == 200
        with httpx.Client(base_url=hub.url) as http:
            assert put(http, "deep", repacked(reference_bundles["default"], name="deep")).status_code == 201
        assert httpx.put(f"{hub.url}/api/v1/reference", json={"name": "deep"}).status_code == 200
        video = b"\x00\x00\x00\x18ftypmp42" + bytes(64)  # queued as is: a worker would find it unreadable
        assert httpx.post(f"{hub.url}/api/v1/reference-jobs", params={"name": "deep"}, content=video).status_code == 202
        assert httpx.post(f"{hub.url}/api/v1/cameras/side/gaze/calibrate", json={}).status_code == 202
        beat = {"process_id": "client:pc:side", "role": "client", "interval_s": 2.0, "sent_time_ns": now,
                "host": {"hostname": "pc"}, "process": {"pid": 1, "name": "formsync-camera"}}
        assert httpx.post(f"{hub.url}/api/v1/heartbeats", json=beat).status_code == 201
        wanted = {"frame", "camera_online", "sync_set", "analysis", "set", "reference", "reference_job",
                  "gaze_calibrate", "heartbeat", "process_online", "camera_stale", "analysis_stale"}
        seen = lambda: {json.loads(t)["type"] for t in received}
        assert wait_until(lambda: wanted <= seen(), 10), wanted - seen()
        done.set()
    for text in received:
        STRICT_EVENT.validate_json(text)  # extra="forbid": nothing the contract does not name
