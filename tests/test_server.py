"""``enhance serve``'s API through FastAPI's test client: a job's life, every refusal, hostile
names and files, and the cleanup of the job folders."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the serve extra is part of the test extra")
from fastapi.testclient import TestClient  # noqa: E402

from enhance.server import JobStore, ServeOptions, create_app, safe_name  # noqa: E402

from .conftest import smooth_rgb  # noqa: E402


def _png(h: int = 40, w: int = 56, seed: int = 1) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(smooth_rgb(h, w, seed=seed)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    opts = ServeOptions(root=tmp_path / "jobs", max_upload_mb=2.0, max_queued=3, keep_minutes=1.0)
    store = JobStore(opts)
    with TestClient(create_app(opts, store)) as client:
        yield client, store
    assert not any((tmp_path / "jobs").iterdir())  # shutdown removed every job's folder


def _wait(client: TestClient, jid: str, timeout: float = 60.0) -> dict:  # type: ignore[type-arg]
    t0 = time.time()
    while time.time() - t0 < timeout:
        job = client.get(f"/api/jobs/{jid}").json()
        if job["state"] in ("done", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {jid} did not finish: {job}")


def test_a_jobs_life(server) -> None:  # type: ignore[no-untyped-def]
    client, store = server
    files = [("files", ("plate.png", _png(seed=1), "image/png")), ("files", ("figure 2.png", _png(32, 48, 2), "image/png"))]
    r = client.post("/api/jobs", files=files, data={"model": "bicubic", "zoom": "2", "type": "photo"})
    assert r.status_code == 202, r.text
    jid = r.json()["id"]
    job = _wait(client, jid)
    assert [f["state"] for f in job["files"]] == ["done", "done"]
    assert [f["name"] for f in job["files"]] == ["plate.png", "figure_2.png"]
    out = job["files"][0]["outputs"][0]
    got = client.get(out["url"])
    assert got.status_code == 200 and len(got.content) == out["bytes"]
    assert Image.open(io.BytesIO(got.content)).size == (112, 80)  # x2 of 56 x 40
    z = zipfile.ZipFile(io.BytesIO(client.get(job["zip"]).content))
    assert sorted(z.namelist()) == ["figure_2_ne2x.png", "plate_ne2x.png"]
    report = client.get(job["report"])
    assert report.status_code == 200 and "plate.png" in report.text and "<img" in report.text
    assert str(store.root) not in report.text  # names, never the server's paths
    folder = store.root / jid
    assert folder.is_dir()
    assert client.delete(f"/api/jobs/{jid}").status_code == 200
    assert not folder.exists()
    assert client.get(f"/api/jobs/{jid}").status_code == 404
    assert client.delete(f"/api/jobs/{jid}").status_code == 404


def test_a_retina_job_makes_the_set(server) -> None:  # type: ignore[no-untyped-def]
    client, _ = server
    r = client.post("/api/jobs", files=[("files", ("plate.png", _png(), "image/png"))],
                    data={"model": "bicubic", "densities": "1,2", "format": "webp"})
    job = _wait(client, r.json()["id"])
    names = [o["name"] for o in job["files"][0]["outputs"]]
    assert names == ["plate.webp", "plate@2x.webp"]
    big = client.get(job["files"][0]["outputs"][1]["url"]).content
    assert str(server[1].root) not in client.get(job["report"]).text
    assert Image.open(io.BytesIO(big)).size == (112, 80)


def test_bad_files_fail_their_own_entry_with_a_one_line_error(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, _ = server
    good = _png()
    files = [("files", ("notes.txt", b"not a picture at all\n" * 10, "image/png")),  # the type claimed is ignored
             ("files", ("cut.png", good[: len(good) // 2], "image/png")),
             ("files", ("empty.png", b"", "image/png")),
             ("files", ("fine.png", good, "image/png"))]
    job = _wait(client, client.post("/api/jobs", files=files, data={"model": "bicubic"}).json()["id"])
    states = {f["name"]: f for f in job["files"]}
    assert states["fine.png"]["state"] == "done"
    for name in ("notes.txt", "cut.png", "empty.png"):
        f = states[name]
        assert f["state"] == "failed" and f["outputs"] == []
        assert f["error"].startswith(name + ": ") and "\n" not in f["error"]
        assert str(tmp_path) not in f["error"]  # no server path in what the user sees


def test_too_many_pixels_is_refused_per_file(tmp_path: Path) -> None:
    opts = ServeOptions(root=tmp_path / "jobs", max_pixels=1000)
    with TestClient(create_app(opts)) as client:
        r = client.post("/api/jobs", files=[("files", ("big.png", _png(40, 56), "image/png"))], data={"model": "bicubic"})
        f = _wait(client, r.json()["id"])["files"][0]
        assert f["state"] == "failed" and "big.png" in f["error"] and "pixels" in f["error"]


def test_path_like_and_odd_names_stay_inside_the_job(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, store = server
    names = ["../../escape.png", "/etc/passwd", "..\\..\\win.png", ".hidden.png", "a b;rm -rf ~.png",
             "\u00e9t\u00e9\u202e.png", "x" * 300 + ".png", "plate.png", "plate.png"]
    files = [("files", (n, _png(seed=i), "image/png")) for i, n in enumerate(names)]
    job = _wait(client, client.post("/api/jobs", files=files, data={"model": "bicubic"}).json()["id"])
    shown = [f["name"] for f in job["files"]]
    assert shown[:5] == ["escape.png", "passwd", "win.png", "hidden.png", "a_b_rm_-rf_.png"]
    assert len(set(n.lower() for n in shown)) == len(shown) and all(len(n) <= 70 for n in shown)
    assert all(f["state"] == "done" for f in job["files"])
    assert not (tmp_path / "escape.png").exists() and not (tmp_path / "escape_ne2x.png").exists()
    inside = {p.resolve() for p in store.root.rglob("*")}
    assert all(str(p).startswith(str(store.root.resolve())) for p in inside)
    # an output is found by the name the job lists, never by a path from the request
    for bad in ("../report.html", "..%2Freport.html", "%2Fetc%2Fpasswd", "plate.png", "report.html"):
        assert client.get(f"/api/jobs/{job['id']}/files/{bad}").status_code == 404


def test_unknown_jobs_and_bad_options(server) -> None:  # type: ignore[no-untyped-def]
    client, _ = server
    for jid in ("0" * 32, "../../etc", "abc"):
        assert client.get(f"/api/jobs/{jid}").status_code == 404
    png = [("files", ("plate.png", _png(), "image/png"))]
    for data, word in (({"model": "nope"}, "model"), ({"zoom": "40"}, "zoom"), ({"zoom": "two"}, "zoom"),
                       ({"type": "cartoon"}, "type"), ({"format": "bmp"}, "format"), ({"densities": "1,99"}, "densit"),
                       ({"type": "aliased", "zoom": "1"}, "aliased")):
        r = client.post("/api/jobs", files=png, data=data)
        assert r.status_code == 422 and word in r.json()["detail"], (data, r.text)
    r = client.post("/api/jobs", data={"model": "bicubic"})
    assert r.status_code == 422 and "no files" in r.json()["detail"]


def test_oversize_uploads_get_413(server) -> None:  # type: ignore[no-untyped-def]
    client, store = server
    big = b"\x89PNG\r\n\x1a\n" + bytes(3_000_000)
    r = client.post("/api/jobs", files=[("files", ("huge.png", big, "image/png"))])
    assert r.status_code == 413 and "at most 2 MB" in r.json()["detail"]

    def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: counted as it arrives
        yield b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.png\"\r\n\r\n"
        for _ in range(40):
            yield bytes(100_000)
        yield b"\r\n--b--\r\n"

    r = client.post("/api/jobs", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413
    assert not any(store.root.iterdir())  # nothing of either was kept


def test_a_full_queue_and_a_full_disk_get_503(tmp_path: Path) -> None:
    opts = ServeOptions(root=tmp_path / "jobs", max_queued=2)
    store = JobStore(opts)
    gate = threading.Event()
    real = store._run

    def held(job):  # type: ignore[no-untyped-def]
        gate.wait(30)
        real(job)

    store._run = held  # type: ignore[method-assign]
    png = [("files", ("plate.png", _png(), "image/png"))]
    with TestClient(create_app(opts, store)) as client:
        codes = [client.post("/api/jobs", files=png, data={"model": "bicubic"}).status_code for _ in range(4)]
        # the first is taken by the worker (queued until it runs), two more wait, the fourth is refused
        assert codes[:2] == [202, 202] and codes[-1] == 503
        r = client.post("/api/jobs", files=png, data={"model": "bicubic"})
        assert r.status_code == 503 and r.headers["retry-after"] == "30" and "waiting" in r.json()["detail"]
        gate.set()
        for jid in list(store.jobs):
            assert _wait(client, jid)["files"][0]["state"] == "done"
        store.options = ServeOptions(root=store.root, max_disk_gb=1e-9)
        r = client.post("/api/jobs", files=png, data={"model": "bicubic"})
        assert r.status_code == 503 and "GB" in r.json()["detail"]


def test_finished_jobs_are_swept_after_their_time(server) -> None:  # type: ignore[no-untyped-def]
    client, store = server
    jid = client.post("/api/jobs", files=[("files", ("p.png", _png(), "image/png"))], data={"model": "bicubic"}).json()["id"]
    _wait(client, jid)
    assert store.sweep() == 0  # just finished: kept
    assert store.sweep(now=time.time() + 61) == 1  # keep_minutes=1 later: gone, folder and all
    assert not (store.root / jid).exists() and client.get(f"/api/jobs/{jid}").status_code == 404


def test_safe_name() -> None:
    taken: set[str] = set()
    assert safe_name("../a/b/c.png", taken) == "c.png"
    assert safe_name("C.PNG", taken) == "C-2.PNG"  # unique without regard to case
    assert safe_name("", taken) == "image"
    assert safe_name("...", taken) == "image-2"
    assert safe_name("con\x00trol\n.jpg", taken) == "con_trol_.jpg"


def test_the_page_and_docs_are_served(server) -> None:  # type: ignore[no-untyped-def]
    client, _ = server
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    js = client.get("/static/app.js")
    assert js.status_code == 200 and "/api/jobs" in js.text and "http" not in js.text.replace("xhr", "")
    assert client.get("/static/../server.py").status_code == 404
    assert client.get("/openapi.json").json()["paths"]["/api/jobs"]["post"]
    models = client.get("/api/models").json()
    assert any(m["name"] == "default" and 2 in m["zooms"] for m in models)
