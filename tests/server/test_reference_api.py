"""The hub's references: stored, listed, served and chosen, through a real hub on loopback, with
bundles of real references built from the shared footage."""

import hashlib
import io
import json
import threading
import zipfile

import httpx
import numpy as np
import pytest
from websockets.sync.client import connect

from formsync.reference_bundle import DATA_FILE, META_FILE, pack, unpack, write_npz
from tests.support import RunningHub


@pytest.fixture(params=["embedded", "redis"])
def kind(request) -> str:
    """Which reference store the hub keeps: its own (SQLite and files) or Redis."""
    return request.param


@pytest.fixture
def store_settings(request, kind) -> dict:
    return {"redis_url": request.getfixturevalue("redis_url")} if kind == "redis" else {}


@pytest.fixture
def hub(store_settings):
    """A real hub with the embedded reference store, then one with Redis's."""
    with RunningHub(**store_settings) as running:
        yield running


def stored_versions(hub, name: str) -> int:
    """Versions of ``name`` the hub's storage still holds (folders, or data keys in Redis)."""
    if hub.settings.redis_url is None:
        return len(list((hub.settings.reference_root / "stored" / name).iterdir()))
    import redis

    client = redis.Redis.from_url(hub.settings.redis_url)
    try:
        return len(client.keys(f"formsync:reference-data:{name}:*"))
    finally:
        client.close()

ZIP = {"Content-Type": "application/zip"}


def put(http, name, bundle):
    return http.put(f"/api/v1/references/{name}", content=bundle, headers=ZIP)


def members(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def repacked(bundle: bytes, name: str | None = None, drop_last_frame: bool = False, **content) -> bytes:
    """The bundle renamed, or changed: its data's last row dropped (a different content hash)."""
    parts = members(bundle)
    meta = json.loads(parts.pop(META_FILE))
    data = parts.pop(DATA_FILE)
    if name is not None:
        meta["name"] = name
    if drop_last_frame:
        with np.load(io.BytesIO(data)) as npz:
            data = write_npz({k: npz[k][:-1] for k in npz.files})
        meta["frames"] -= 1
    meta.update(content)
    frames = {int(n.split("/")[1].split(".")[0]): body for n, body in parts.items()}
    return pack(json.dumps(meta).encode(), data, frames)


@pytest.fixture(scope="module")
def side(reference_bundles) -> bytes:
    return reference_bundles["default"]


def test_stored_reference_is_listed_described_and_served(hub, side):
    expected = unpack(side)
    with httpx.Client(base_url=hub.url) as http:
        assert http.get("/api/v1/references").json() == {"references": [], "chosen": None}
        r = put(http, "default", side)
        assert r.status_code == 201, r.text
        meta = r.json()
        assert meta["content_hash"] == hashlib.sha256(expected.data).hexdigest() == expected.content_hash
        assert meta["name"] == "default" and meta["view"] == "side" and len(meta["reps"]) == 2
        assert meta["frames"] == expected.content.frames and meta["pictures"] == len(expected.frames)
        assert meta["data_bytes"] == len(expected.data) and "knee_left" in meta["angle_names"]
        assert http.get("/api/v1/references").json() == {"references": [meta], "chosen": None}
        assert http.get("/api/v1/references/default").json() == meta

        data = http.get("/api/v1/references/default/data")
        assert data.status_code == 200 and data.content == expected.data
        assert data.headers["etag"] == f'"{meta["content_hash"]}"'
        again = http.get("/api/v1/references/default/data", headers={"If-None-Match": data.headers["etag"]})
        assert again.status_code == 304 and again.content == b""

        bottom = meta["reps"][0]["bottom"]
        pic = http.get(f"/api/v1/references/default/frames/{bottom}.jpg")
        assert pic.status_code == 200 and pic.headers["content-type"] == "image/jpeg"
        assert pic.content == expected.frames[bottom]
        assert pic.headers["x-content-hash"] == meta["content_hash"]


def test_unknown_references_and_pictures_are_404(hub, side):
    with httpx.Client(base_url=hub.url) as http:
        for path in ("/api/v1/references/nope", "/api/v1/references/nope/data", "/api/v1/references/nope/frames/0.jpg"):
            r = http.get(path)
            assert r.status_code == 404 and r.json()["error"]["code"] == "reference_not_found", path
        assert put(http, "default", side).status_code == 201
        r = http.get("/api/v1/references/default/frames/999999.jpg")
        assert r.status_code == 404 and r.json()["error"]["code"] == "picture_not_found"
        r = http.get("/api/v1/references/..hidden")
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_reference_name"


def test_bad_uploads_are_refused_with_a_clear_error_and_change_nothing(hub, side):
    bad_data = members(side)
    bad_data[DATA_FILE] = write_npz({"seq": np.arange(3)})
    wrong_shape = members(side)
    with np.load(io.BytesIO(wrong_shape[DATA_FILE])) as npz:
        wrong_shape[DATA_FILE] = write_npz({k: (npz[k][:, :5] if k == "angles" else npz[k]) for k in npz.files})
    not_jpeg = members(side)
    first_picture = next(n for n in not_jpeg if n.startswith("frames/"))
    not_jpeg[first_picture] = b"GIF89a..."

    def zipped(parts):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as zf:
            for n, body in parts.items():
                zf.writestr(n, body)
        return out.getvalue()

    cases = [
        ("default", b"not a zip", ZIP, 422, "invalid_bundle"),
        ("default", zipped({"reference.json": b"{}"}), ZIP, 422, "invalid_bundle"),
        ("default", zipped({**members(side), "../evil": b"x"}), ZIP, 422, "invalid_bundle"),
        ("default", repacked(side, fps=-1), ZIP, 422, "invalid_content"),
        ("default", repacked(side, reps=[]), ZIP, 422, "invalid_content"),
        ("default", zipped(bad_data), ZIP, 422, "invalid_data"),
        ("default", zipped(wrong_shape), ZIP, 422, "invalid_data"),
        ("default", zipped(not_jpeg), ZIP, 422, "invalid_picture"),
        ("other", side, ZIP, 422, "name_mismatch"),
        ("default", side, {"Content-Type": "application/json"}, 415, "unsupported_media_type"),
        ("with space", side, ZIP, 422, "invalid_reference_name"),
    ]
    with httpx.Client(base_url=hub.url) as http:
        for name, body, headers, status, code in cases:
            r = http.put(f"/api/v1/references/{name}", content=body, headers=headers)
            assert r.status_code == status and r.json()["error"]["code"] == code, (code, r.text[:300])
            assert set(r.json()["error"]) == {"code", "message", "details", "request_id"}
        assert http.get("/api/v1/references").json()["references"] == []
    with RunningHub(max_reference_bytes=len(side) - 1) as small, httpx.Client(base_url=small.url) as http:
        r = put(http, "default", side)
        assert r.status_code == 413 and r.json()["error"]["code"] == "reference_too_large"


def test_a_reference_needs_a_worker_token_to_upload_and_a_viewer_to_choose(tmp_path, side):
    worker, viewer = "w" * 20, "v" * 20
    with RunningHub(worker_tokens=[worker], viewer_tokens=[viewer], camera_tokens=["c" * 20],
                    db_path=str(tmp_path / "hub.db")) as hub, httpx.Client(base_url=hub.url) as http:
        as_viewer = {"Authorization": f"Bearer {viewer}"}
        as_worker = {"Authorization": f"Bearer {worker}"}
        assert http.put("/api/v1/references/default", content=side, headers={**ZIP, **as_viewer}).status_code == 403
        assert http.put("/api/v1/references/default", content=side, headers={**ZIP, **as_worker}).status_code == 201
        assert http.get("/api/v1/references/default/data", headers=as_worker).status_code == 200
        assert http.get("/api/v1/references/default/frames/0.jpg", headers=as_viewer).status_code == 200
        assert http.put("/api/v1/reference", json={"name": "default"}, headers=as_worker).status_code == 403
        assert http.put("/api/v1/reference", json={"name": "default"}, headers=as_viewer).status_code == 200


def test_rebuilt_reference_replaces_the_old_one_whole_for_readers_meanwhile(hub, side):
    """While one client stores two versions in turn, another reads data and metadata: every read
    matches one version's hash, none mixes them or fails."""
    rebuilt = repacked(side, drop_last_frame=True)
    versions = {unpack(b).content_hash: unpack(b).data for b in (side, rebuilt)}
    assert len(versions) == 2
    with httpx.Client(base_url=hub.url) as http:
        assert put(http, "default", side).status_code == 201
    stop, problems, reads = threading.Event(), [], []

    def read() -> None:
        with httpx.Client(base_url=hub.url) as http:
            while not stop.is_set():
                r = http.get("/api/v1/references/default/data")
                tag = r.headers.get("etag", "").strip('"')
                if r.status_code != 200 or versions.get(tag) != r.content:
                    problems.append((r.status_code, tag[:12]))
                pic = http.get("/api/v1/references/default/frames/0.jpg")
                if pic.status_code != 200 or pic.headers["x-content-hash"] not in versions:
                    problems.append(("picture", pic.status_code))
                reads.append(tag)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        with httpx.Client(base_url=hub.url) as http:
            for body in [rebuilt, side] * 3:
                r = put(http, "default", body)
                assert r.status_code == 200 and r.json()["content_hash"] == unpack(body).content_hash
    finally:
        stop.set()
        reader.join(10)
    assert not problems and len(reads) >= 6, (problems, len(reads))
    assert stored_versions(hub, "default") == 1  # only the current version is left


def test_choice_and_references_survive_a_restart_and_each_change_is_an_event(tmp_path, side, store_settings):
    hub = RunningHub(db_path=str(tmp_path / "hub.db"), **store_settings).start()
    rebuilt = repacked(side, drop_last_frame=True)
    try:
        with connect(hub.url.replace("http", "ws") + "/api/v1/events?types=reference") as ws, \
                httpx.Client(base_url=hub.url) as http:
            assert http.get("/api/v1/reference").json() == {"name": None, "content_hash": None}
            r = http.put("/api/v1/reference", json={"name": "default"})
            assert r.status_code == 404 and r.json()["error"]["code"] == "reference_not_found"
            first = put(http, "default", side).json()
            assert json.loads(ws.recv(5)) == {"type": "reference", "change": "stored", "name": "default",
                                              "content_hash": first["content_hash"], "chosen": None}
            assert http.put("/api/v1/reference", json={"name": "default"}).json() == {
                "name": "default", "content_hash": first["content_hash"]}
            assert json.loads(ws.recv(5)) == {"type": "reference", "change": "chosen", "name": "default",
                                              "content_hash": first["content_hash"], "chosen": "default"}
            second = put(http, "default", rebuilt).json()
            assert second["content_hash"] != first["content_hash"]
            assert json.loads(ws.recv(5)) == {"type": "reference", "change": "stored", "name": "default",
                                              "content_hash": second["content_hash"], "chosen": "default"}
        hub.stop()
        hub.start()
        with httpx.Client(base_url=hub.url) as http:
            assert http.get("/api/v1/reference").json() == {"name": "default", "content_hash": second["content_hash"]}
            assert http.get("/api/v1/references/default").json() == second
            assert http.get("/api/v1/references/default/data").content == unpack(rebuilt).data
    finally:
        hub.stop()


def test_bad_reference_name_is_a_422_and_changes_nothing(hub):
    with httpx.Client(base_url=hub.url) as http:
        for bad in ("../etc", "", "a" * 65, "with space", ".hidden"):
            r = http.put("/api/v1/reference", json={"name": bad})
            assert r.status_code == 422 and r.json()["error"]["code"], bad
        assert http.put("/api/v1/reference", json={"name": "ok", "extra": 1}).status_code == 422
        assert http.get("/api/v1/reference").json() == {"name": None, "content_hash": None}
