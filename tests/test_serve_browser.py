"""A real ``enhance serve`` on a free loopback port, driven by Playwright in Debian's chromium:
upload two files through the page, wait for them, drag the before/after slider, download a
result. No request may leave loopback. The page's screenshot is kept in tests/artifacts/."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import free_port, smooth_rgb

pytest.importorskip("fastapi", reason="the serve extra is part of the test extra")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"



@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (CI installs it: .ci/run)")
def test_the_page_in_a_headless_browser(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    for i, (h, w) in enumerate([(90, 120), (70, 100)]):
        Image.fromarray(smooth_rgb(h, w, seed=10 + i)).save(tmp_path / f"figure{i + 1}.png")
    port = free_port()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp))
    proc = subprocess.Popen([sys.executable, "-m", "enhance.cli", "serve", "--port", str(port)], env=env,
                            stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/api/models", timeout=1)
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        assert len(list(tmp.glob("enhance-serve-*"))) == 1
        requests: list[str] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                         "--disable-background-networking", "--disable-component-update",
                                         "--no-first-run"])
            try:
                ctx = browser.new_context(viewport={"width": 1200, "height": 1000}, accept_downloads=True)
                ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith((base, "data:", "blob:"))
                          else route.abort())
                page = ctx.new_page()
                page.on("request", lambda r: requests.append(r.url))
                page.goto(base + "/")
                page.wait_for_function("() => document.querySelectorAll('#model option').length > 1")
                page.select_option("#model", "bicubic")
                page.select_option("#make", "2")
                page.set_input_files("#files", [str(tmp_path / "figure1.png"), str(tmp_path / "figure2.png")])
                assert "figure1.png, figure2.png" in page.inner_text("#drop-text")
                page.click("#go")
                page.wait_for_selector("article.job iframe.report", timeout=60_000)
                assert page.locator("article.job .file.done").count() == 2
                report = page.frame_locator("iframe.report")
                slider = report.locator(".slider input").first
                slider.wait_for()
                frame = page.locator("iframe.report").element_handle().content_frame()  # type: ignore[union-attr]
                assert frame is not None
                frame.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
                slider.scroll_into_view_if_needed()
                after = report.locator(".slider .after").first
                clip0 = after.evaluate("e => getComputedStyle(e).clipPath")
                box = slider.bounding_box()
                assert box is not None
                page.mouse.move(box["x"] + 4, box["y"] + box["height"] / 2)
                page.mouse.down()
                page.mouse.move(box["x"] + box["width"] * 0.85, box["y"] + box["height"] / 2, steps=8)
                page.mouse.up()
                assert int(slider.input_value()) > 70 and after.evaluate("e => getComputedStyle(e).clipPath") != clip0
                link = page.locator("article.job a[download='figure1_ne2x.png']")
                with page.expect_download() as dl:
                    link.click()
                path = dl.value.path()
                assert path is not None
                got = Image.open(path)
                assert got.size == (240, 180)
                assert f"({int(os.path.getsize(path) / 1024 + 0.5)} KB)" in link.inner_text()  # the size the page showed, rounded half up as Math.round does
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "serve.png"), full_page=True)
            finally:
                browser.close()
        assert requests and all(u.startswith((base, "data:", "blob:")) for u in requests), requests
        shot = np.asarray(Image.open(ARTIFACTS / "serve.png").convert("L"), np.float32)
        assert shot.shape[0] > 400 and shot.std() > 10
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop that removes every job's files
        try:
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    assert list(tmp.glob("enhance-serve-*")) == []  # the job root, removed on shutdown
