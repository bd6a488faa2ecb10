"""``--engine ray`` against a real local Ray cluster (one for the test session, ``ray start``):
the local engine's outputs byte for byte, bad files failed in the manifest, an actor killed
mid-run, the driver killed mid-run and resumed, and the pool sized so Ray Data never starves."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enhance.ray_engine import pool_size

from .conftest import free_port, smooth_rgb

ray = pytest.importorskip("ray", reason="the ray extra is part of the test extra")
RAY = Path(sys.executable).parent / "ray"



@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A local Ray cluster of 2 CPUs for the whole session; stopped at its end."""
    import secrets

    port = free_port()
    tmp = tmp_path_factory.mktemp("ray")
    # the cluster and its drivers share one token (Ray's token authentication)
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32), RAY_USAGE_STATS_ENABLED="0")
    env = dict(os.environ)
    subprocess.run([str(RAY), "start", "--head", f"--port={port}", "--num-cpus=2", "--num-gpus=0",
                    "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={tmp}"], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN"):
            os.environ.pop(k, None)
        subprocess.run([str(RAY), "stop", "--force"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120)


def _scans(folder: Path, n: int, side: int = 96) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"scan{i:02d}.png"
        Image.fromarray(smooth_rgb(side, side + 8 * (i % 3), seed=i)).save(p)
        paths.append(p)
    return paths


def _enhance(*args: str, cwd: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    return subprocess.Popen([sys.executable, "-m", "enhance.cli", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _lines(manifest: Path) -> list[dict]:  # type: ignore[type-arg]
    if not manifest.exists():
        return []
    return [json.loads(x) for x in manifest.read_text().splitlines() if x.strip()]


def _leftovers(folder: Path) -> list[str]:
    """Anything in ``folder`` that is not a whole output (temporaries, partial files)."""
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and not p.name.endswith("_ne2x.png"))


def test_pool_leaves_a_cpu_for_ray_data() -> None:
    assert pool_size(2, 0, 0) == 1  # two actors on 2 CPUs starve the read task: one
    assert pool_size(16, 0, 0) == 15
    assert pool_size(2, 0, 0, workers=4) == 1  # asked for more than fits: what fits
    assert pool_size(16, 2, 0.5) == 4 and pool_size(16, 2, 1) == 2
    assert pool_size(1, 0, 0) == 1


def test_same_outputs_as_the_local_engine_and_bad_files_listed(cluster: str, tmp_path: Path) -> None:
    _scans(tmp_path / "in" / "a", 3)
    _scans(tmp_path / "in" / "b" / "deep", 2)
    (tmp_path / "in" / "b" / "notes.png").write_bytes(b"not an image\n" * 20)
    good = (tmp_path / "in" / "a" / "scan00.png").read_bytes()
    (tmp_path / "in" / "b" / "cut.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "in" / "b" / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(300))
    listing = tmp_path / "list.csv"
    rows = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "in").rglob("*.*"))
    listing.write_text("path,title\n" + "".join(f"{r},x\n" for r in rows))
    common = ["--zoom=2", "--model=default", "--from-list", str(listing), "--keep-tree", "-q"]
    local = _enhance(*common, "-o", "local", "--manifest", "local.jsonl", cwd=tmp_path)
    assert local.wait(300) == 1, local.stderr.read() if local.stderr else ""
    on_ray = _enhance(*common, "-o", "ray", "--manifest", "ray.jsonl", "--engine", "ray", "--ray-address", cluster,
                      cwd=tmp_path)
    err = on_ray.communicate(timeout=300)[1]
    assert on_ray.returncode == 1, err  # some failed
    for name in ("a/scan00_ne2x.png", "a/scan02_ne2x.png", "b/deep/scan01_ne2x.png"):  # the tree, mirrored
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    recs = {r["input"]: r for r in _lines(tmp_path / "ray.jsonl")}
    assert sorted(recs) == rows and len(_lines(tmp_path / "ray.jsonl")) == 8  # each input once
    for bad in ("notes.png", "cut.png", "bad.jpg"):
        rec = recs[str(Path("in/b") / bad)]
        assert rec["status"] == "failed" and rec["message"].startswith(str(Path("in/b") / bad))
        assert "\n" not in rec["message"] and bad in err
    done = [r for r in recs.values() if r["status"] == "done"]
    assert len(done) == 5 and all(r["bytes"] == os.path.getsize(tmp_path / r["output"]) for r in done)
    assert done[0]["settings"]["model"] == "default" and done[0]["settings"]["zoom"] == 2
    assert _leftovers(tmp_path / "ray") == []


def _actor_pids() -> list[int]:
    """This machine's processes that are Ray Data actors of enhance's worker."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"_Worker" in cmd and b"ray::" in cmd:
            pids.append(int(d.name))
    return pids


def test_an_actor_killed_mid_run(cluster: str, tmp_path: Path) -> None:
    _scans(tmp_path / "in", 14, side=160)
    run = _enhance("--zoom=2", "--model=default", "-o", "out", "--manifest", "run.jsonl", "--engine", "ray",
                   "--ray-address", cluster, "in", cwd=tmp_path)
    killed = None
    t0 = time.time()
    while time.time() - t0 < 240 and run.poll() is None:
        if len(_lines(tmp_path / "run.jsonl")) >= 2 and (pids := _actor_pids()):
            killed = pids[0]
            os.kill(killed, signal.SIGKILL)
            break
        time.sleep(0.05)
    err = run.communicate(timeout=300)[1]
    assert killed is not None, "the run ended before an actor could be killed"
    assert run.returncode == 0, err
    lines = _lines(tmp_path / "run.jsonl")
    assert sorted(Path(r["input"]).name for r in lines) == [f"scan{i:02d}.png" for i in range(14)]  # each once
    assert all(r["status"] == "done" for r in lines)
    assert _leftovers(tmp_path / "out") == []  # no partial output, no temporary left
    for r in lines:
        assert Image.open(tmp_path / r["output"]).size[0] > 300


def test_the_driver_killed_mid_run_then_resumed(cluster: str, tmp_path: Path) -> None:
    _scans(tmp_path / "in", 14, side=160)
    args = ["--zoom=2", "--model=default", "-o", "out", "--manifest", "run.jsonl", "--engine", "ray",
            "--ray-address", cluster, "in"]
    run = _enhance(*args, cwd=tmp_path)
    t0 = time.time()
    while time.time() - t0 < 240 and run.poll() is None and len(_lines(tmp_path / "run.jsonl")) < 3:
        time.sleep(0.05)
    assert run.poll() is None, "the run ended before its driver could be killed"
    run.kill()
    run.wait(60)
    first = {Path(r["input"]).name: r for r in _lines(tmp_path / "run.jsonl")}
    assert 3 <= len(first) < 14
    stamps = {n: os.stat(tmp_path / r["output"]).st_mtime_ns for n, r in first.items()}
    # one finished output damaged after the kill: a rerun must not take it for complete
    damaged = sorted(first)[0]
    out = tmp_path / first[damaged]["output"]
    out.write_bytes(out.read_bytes()[:-200])
    time.sleep(1)  # let the killed driver's actors go (Ray ends a dead driver's job)
    again = _enhance(*args, "--skip-existing", cwd=tmp_path)
    err = again.communicate(timeout=300)[1]
    assert again.returncode == 0, err
    second = [r for r in _lines(tmp_path / "run.jsonl")][len(first):]
    by_name = {Path(r["input"]).name: r for r in second}
    assert sorted(by_name) == [f"scan{i:02d}.png" for i in range(14)]
    for n in first:
        if n == damaged:
            assert by_name[n]["status"] == "done"  # made again
        else:
            assert by_name[n]["status"] == "skipped"  # not redone
            assert os.stat(tmp_path / first[n]["output"]).st_mtime_ns == stamps[n]
    from enhance.outfile import is_complete

    # the rest: made now, or finished by the dead driver's last actor after its manifest line was lost
    assert all(by_name[n]["status"] in ("done", "skipped") for n in by_name if n not in first)
    assert _leftovers(tmp_path / "out") == []
    for r in second:
        assert is_complete(tmp_path / r["output"])
        assert np.asarray(Image.open(tmp_path / r["output"])).shape[:2] > (300, 300)


def test_a_manifest_records_other_settings_and_reruns_them(tmp_path: Path) -> None:
    from enhance.cli import main

    _scans(tmp_path / "in", 2)
    m = tmp_path / "run.jsonl"
    assert main(["--zoom=2", "--model=bicubic", "-q", "-o", str(tmp_path / "out"), "--manifest", str(m),
                 str(tmp_path / "in")]) == 0
    assert main(["--zoom=2", "--model=lanczos", "-q", "-o", str(tmp_path / "out"), "--manifest", str(m),
                 "--skip-existing", str(tmp_path / "in")]) == 0
    lines = _lines(m)
    assert [r["status"] for r in lines] == ["done", "done", "done", "done"]  # other settings: made again
    assert "made with other settings" in " ".join(lines[2]["notes"])
    assert main(["--zoom=2", "--model=lanczos", "-q", "-o", str(tmp_path / "out"), "--manifest", str(m),
                 "--skip-existing", str(tmp_path / "in")]) == 0
    assert [r["status"] for r in _lines(m)[4:]] == ["skipped", "skipped"]
    with open(m, "ab") as fh:
        fh.write(b'{"input": "torn')  # a driver killed mid-line
    from enhance.manifest import Manifest

    assert len(Manifest(m, {}).read()) == 2


def test_lists_as_text_and_jsonl(tmp_path: Path) -> None:
    from enhance.batch import read_list
    from enhance.errors import InputError

    (tmp_path / "a.txt").write_text("# scans\nx/1.png\n\n y/2.tif \n")
    assert read_list(tmp_path / "a.txt") == ["x/1.png", "y/2.tif"]
    (tmp_path / "a.jsonl").write_text('{"path": "x/1.png", "id": 3}\n\n{"path": "z.png"}\n')
    assert read_list(tmp_path / "a.jsonl") == ["x/1.png", "z.png"]
    (tmp_path / "b.csv").write_text("file\nx.png\n")
    with pytest.raises(InputError, match="'path' column"):
        read_list(tmp_path / "b.csv")
    with pytest.raises(InputError, match="cannot read"):
        read_list(tmp_path / "none.txt")
    shutil.rmtree(tmp_path / "none.txt", ignore_errors=True)


def test_an_address_nothing_answers_at_is_one_line_at_once(tmp_path: Path) -> None:
    _scans(tmp_path / "in", 1)
    t0 = time.time()
    run = _enhance("--model=bicubic", "-o", "out", "--engine", "ray", "--ray-address", f"127.0.0.1:{free_port()}",
                   "in", cwd=tmp_path)
    err = run.communicate(timeout=120)[1]
    assert run.returncode == 2 and time.time() - t0 < 60
    assert err.strip().splitlines()[-1].startswith("enhance: error: cannot reach the Ray cluster at 127.0.0.1:")
