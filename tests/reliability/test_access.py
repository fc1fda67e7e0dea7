"""Access: bearer tokens per role (401 without, 403 with the wrong kind), a hub that will not start
beyond loopback without tokens, tokens never logged, CORS closed by default, request ids.

A real hub on loopback (in-process uvicorn, or ``fastapi_server.py`` where the process matters),
real camera clients, worker and dashboard poller carrying their tokens.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import threading
import time

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from analysis.worker import AnalysisWorker
from clients.config import CameraConfig, ClientConfig
from clients.runner import start_workers, stop_workers
from formsync.auth import bearer
from server.auth import Role, TokenAuth, is_loopback, make_token
from streamlit_app.models import LinkState
from streamlit_app.poller import HubPoller
from tests.conftest import synthetic_jpeg
from tests.reliability.processes import HubProcess
from tests.support import ROOT, RunningHub, squat_clip, wait_until

CAMERA, VIEWER, WORKER = make_token(), make_token(), make_token()
TOKENS = {"camera_tokens": (CAMERA,), "viewer_tokens": (VIEWER,), "worker_tokens": (WORKER,)}
JPEG = synthetic_jpeg(5)
SIDE = squat_clip("side_bodyweight_intellifit1.mp4")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def locked_hub(tmp_path):
    with RunningHub(db_path=str(tmp_path / "hub.db"), **TOKENS) as hub:
        yield hub


def upload(http: httpx.Client, headers: dict, seq: int = 0, cam: str = "cam") -> httpx.Response:
    return http.post(f"/api/v1/cameras/{cam}/frames", content=JPEG,
                     headers={"X-Frame-Seq": str(seq), "X-Capture-Time-Ns": str(time.time_ns()), **headers})


def analysis_body(seq: int) -> dict:
    return {"seq": seq, "capture_time_ns": time.time_ns(), "processing_ms": 5.0, "pose_found": False,
            "rep": {"count": 0, "phase": "top"}}


# (method, path, json body or None, role that may call it)
ROUTES = [
    ("GET", "/api/v1/cameras", None, VIEWER),
    ("GET", "/api/v1/cameras/cam/frame", None, VIEWER),
    ("GET", "/api/v1/cameras/cam/frames/0", None, WORKER),
    ("GET", "/api/v1/frames/sync?cameras=cam,other", None, VIEWER),
    ("GET", "/api/v1/cameras/cam/analysis", None, VIEWER),
    ("POST", "/api/v1/cameras/cam/analysis", analysis_body(0), WORKER),
    ("GET", "/api/v1/sets", None, VIEWER),
    ("GET", "/api/v1/alerts", None, VIEWER),
    ("GET", "/api/v1/heartbeats", None, VIEWER),
    ("GET", "/api/v1/reference", None, WORKER),
    ("PUT", "/api/v1/reference", {"name": "default"}, VIEWER),
    ("GET", "/api/v1/references", None, WORKER),
    ("GET", "/api/v1/references/default", None, VIEWER),
    ("GET", "/api/v1/references/default/data", None, WORKER),
    ("GET", "/api/v1/references/default/frames/0.jpg", None, VIEWER),
    ("GET", "/api/v1/reference-jobs", None, VIEWER),
    ("GET", f"/api/v1/reference-jobs/{'0' * 32}", None, WORKER),
    ("POST", "/api/v1/reference-jobs/claim", {"worker_id": "w"}, WORKER),
    ("POST", f"/api/v1/reference-jobs/{'0' * 32}/progress", {"worker_id": "w", "frames_done": 1}, WORKER),
    ("POST", f"/api/v1/reference-jobs/{'0' * 32}/done", {"worker_id": "w", "content_hash": "0" * 64}, WORKER),
    ("POST", f"/api/v1/reference-jobs/{'0' * 32}/failed",
     {"worker_id": "w", "code": "build_failed", "message": "x"}, WORKER),
    ("GET", f"/api/v1/reference-jobs/{'0' * 32}/video", None, WORKER),
    ("GET", "/api/v1/time", None, CAMERA),
    ("GET", "/metrics", None, VIEWER),
]


def test_every_route_wants_a_token_of_its_role(locked_hub):
    with httpx.Client(base_url=locked_hub.url, timeout=5) as http:
        assert upload(http, auth(CAMERA)).status_code == 201
        for method, path, body, allowed in ROUTES:
            def call(headers, method=method, path=path, body=body):
                return http.request(method, path, json=body, headers=headers)

            missing = call({"X-Request-Id": "no-token-1"})
            assert missing.status_code == 401, (path, missing.text)
            err = missing.json()["error"]
            assert err["code"] == "missing_token" and err["request_id"] == "no-token-1"
            assert missing.headers["x-request-id"] == "no-token-1"
            assert call(auth(make_token())).json()["error"]["code"] == "invalid_token"
            assert call({"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401
            wrong = CAMERA if allowed is not CAMERA else VIEWER
            if (path, wrong) != ("/api/v1/time", VIEWER):  # the clock is open to every role
                denied = call(auth(wrong))
                assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden", path
            granted = call(auth(allowed)).status_code
            assert granted < 400 or granted == 404, (path, granted)  # 404: nothing stored yet, but let in
        # Uploads: cameras only; liveness stays open for probes.
        assert upload(http, {}).status_code == 401
        assert upload(http, auth(VIEWER), seq=1).status_code == 403
        assert upload(http, auth(WORKER), seq=1).status_code == 403
        assert http.get("/healthz").status_code == 200


def test_websockets_refuse_the_handshake_with_the_json_error(locked_hub):
    ws = locked_hub.url.replace("http", "ws") + "/api/v1"
    for path, good, bad in [("/events", VIEWER, CAMERA), ("/events", WORKER, CAMERA),
                            ("/cameras/c/stream", CAMERA, VIEWER)]:
        with pytest.raises(InvalidStatus) as refused:
            connect(ws + path, additional_headers={"X-Request-Id": "ws-1"})
        resp = refused.value.response
        assert resp.status_code == 401 and resp.headers["x-request-id"] == "ws-1"
        body = json.loads(bytes(resp.body))
        assert body["error"]["code"] == "missing_token" and body["error"]["request_id"] == "ws-1"
        with pytest.raises(InvalidStatus) as forbidden:
            connect(ws + path, additional_headers=auth(bad))
        assert forbidden.value.response.status_code == 403
        with connect(ws + path, additional_headers=auth(good)) as sock:
            if path == "/events":
                with httpx.Client(base_url=locked_hub.url) as http:
                    assert upload(http, auth(CAMERA), seq=int(time.time())).status_code == 201
                assert json.loads(sock.recv(5))["type"] in ("camera_online", "frame")
            else:
                sock.send(json.dumps({"type": "time", "t0": 1}))
                assert json.loads(sock.recv(5))["type"] == "time"


def test_a_token_may_hold_several_roles_and_compares_in_constant_time_per_known_token():
    shared = make_token()
    auth_ = TokenAuth({Role.CAMERA: [shared, CAMERA], Role.VIEWER: [shared]})
    assert auth_.roles_of(shared) == {Role.CAMERA, Role.VIEWER}
    assert auth_.roles_of(CAMERA) == {Role.CAMERA} and auth_.roles_of(CAMERA[:-1]) == frozenset()
    assert not TokenAuth({}).enabled
    assert (len(CAMERA) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", CAMERA)
            and len({make_token() for _ in range(50)}) == 50)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20") and not is_loopback("hub.local")


def test_make_token_prints_one_token():
    out = subprocess.run([sys.executable, "fastapi_server.py", "--make-token"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and re.fullmatch(r"[A-Za-z0-9_-]{43}\n", out.stdout)


def test_hub_beyond_loopback_refuses_to_start_without_tokens_and_never_prints_them():
    env = {"FORMSYNC_HUB_CAMERA_TOKENS": CAMERA, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "fastapi_server.py", "--host", "0.0.0.0", "--port", "1"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 2
    assert "FORMSYNC_HUB_VIEWER_TOKENS" in out.stderr and "FORMSYNC_HUB_WORKER_TOKENS" in out.stderr
    assert "FORMSYNC_HUB_CAMERA_TOKENS" not in out.stderr  # that one is set
    assert CAMERA not in out.stderr + out.stdout
    short = subprocess.run([sys.executable, "fastapi_server.py"], cwd=ROOT, capture_output=True, text=True,
                           timeout=60, env={**env, "FORMSYNC_HUB_VIEWER_TOKENS": "tooshort-secret"})
    assert short.returncode == 2 and "at least 16 characters" in short.stderr
    assert "tooshort-secret" not in short.stderr


def test_tokens_never_reach_the_log_and_log_lines_carry_the_request_id(tmp_path):
    hub = HubProcess(tmp_path, env={"FORMSYNC_HUB_CAMERA_TOKENS": CAMERA, "FORMSYNC_HUB_VIEWER_TOKENS": VIEWER,
                                    "FORMSYNC_HUB_WORKER_TOKENS": WORKER, "FORMSYNC_HUB_LOG_LEVEL": "debug"})
    hub.start()
    try:
        wrong = make_token()
        with httpx.Client(base_url=hub.url, timeout=5) as http:
            # "camera ... online" is logged while serving this upload: it must name the request.
            assert upload(http, {**auth(CAMERA), "X-Request-Id": "rid-online-42"}, cam="logged").status_code == 201
            assert http.get("/api/v1/cameras", headers=auth(wrong)).status_code == 401
            assert http.get("/api/v1/cameras", headers=auth(CAMERA)).status_code == 403
        with pytest.raises(InvalidStatus):
            connect(hub.url.replace("http", "ws") + "/api/v1/events", additional_headers=auth(wrong))
    finally:
        hub.stop()
    log = hub.log()
    assert re.search(r"\[rid-online-42\] server\.ingest: camera logged online", log), log[-2000:]
    for secret in (CAMERA, VIEWER, WORKER, wrong):
        assert secret not in log


def test_cors_is_closed_unless_origins_are_configured(tmp_path):
    preflight = {"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
    with RunningHub(db_path=str(tmp_path / "a.db")) as hub:
        r = httpx.options(hub.url + "/api/v1/cameras", headers=preflight)
        assert "access-control-allow-origin" not in r.headers
        r = httpx.get(hub.url + "/api/v1/cameras", headers={"Origin": "http://evil.example"})
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    with RunningHub(db_path=str(tmp_path / "b.db"), cors_origins=("http://dash.local:8501",)) as hub:
        ok = httpx.options(hub.url + "/api/v1/cameras",
                           headers={**preflight, "Origin": "http://dash.local:8501"})
        assert ok.headers["access-control-allow-origin"] == "http://dash.local:8501"
        assert "access-control-allow-origin" not in httpx.options(hub.url + "/api/v1/cameras",
                                                                   headers=preflight).headers


@pytest.mark.skipif(not SIDE.exists(), reason=f"shared footage not found at {SIDE.parent}")
def test_clients_worker_and_dashboard_use_their_tokens(locked_hub, monkeypatch):
    hub = locked_hub
    cam = CameraConfig(camera_id="side", source=str(SIDE), max_width=320)
    refused = start_workers(ClientConfig(hub_url=hub.url, cameras=(cam.model_copy(update={"camera_id": "nope"}),),
                                         token=VIEWER))
    monkeypatch.setenv("FORMSYNC_CAMERA_TOKEN", CAMERA)  # the client's default comes from the environment
    workers = start_workers(ClientConfig(hub_url=hub.url, cameras=(cam,)))
    poller = HubPoller(hub.url, token=VIEWER).start()
    tokenless = HubPoller(hub.url).start()
    worker = AnalysisWorker(hub.url, lambda camera_id: InstantAnalyzer(), worker_id="tok", token=WORKER)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(worker.run(stop),), daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: (f := hub.store.latest("side")) is not None and f.seq > 5, 20)
        assert wait_until(lambda: poller.connection().connected and poller.frame("side").read()[1] is not None, 20)
        # The worker followed the events, read the frame and posted its result, all with its token.
        assert wait_until(lambda: httpx.get(hub.url + "/api/v1/cameras/side/analysis",
                                            headers=auth(VIEWER)).status_code == 200, 20)
        assert wait_until(lambda: tokenless.connection().state is LinkState.UNREACHABLE, 10)
        assert "401" in (tokenless.connection().last_error or "")
        assert hub.store.latest("nope") is None and refused[0].stats.rejected >= 1
        assert refused[0].is_alive()  # refused, backing off, not crashed
        assert workers[0].stats.rejected == 0 and bearer(None) == {}
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
        poller.stop()
        tokenless.stop()
        assert stop_workers(workers + refused) == []


class InstantAnalyzer:
    """A worker analyser that answers at once (the token path is under test, not the pose)."""

    def analyze(self, image_bgr, *, seq, capture_time_ns):
        return {"pose_found": False, "landmarks": None, "world_landmarks": None, "angles": {}, "view": "unknown",
                "score": None, "reference_seq": None, "rep_count": 0, "rep_phase": "top", "faults": []}

    def close(self) -> None:
        pass
