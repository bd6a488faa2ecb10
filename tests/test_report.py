"""The HTML report, in a real headless browser (Playwright driving Debian's chromium): it loads
with no request leaving the page, every image decodes, the slider moves when dragged, and a
screenshot shows the pictures."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enhance.cli import main
from enhance.report import busiest_regions

from .conftest import smooth_rgb

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_busiest_regions_find_the_detail() -> None:
    a = np.full((400, 400, 3), 128, np.uint8)
    a[240:400, 0:160] = (np.random.default_rng(0).random((160, 160, 3)) * 255).astype(np.uint8)  # the only detail
    assert busiest_regions(a, 160, 3)[0] in {(240, 0), (200, 0)}
    assert busiest_regions(a[:50, :50], 160) == [(0, 0)]


@pytest.mark.parametrize("flags", [["--zoom=2"], ["--retina", "--formats", "jpeg"]])
def test_a_report_or_manifest_named_like_an_input_is_refused_before_any_work(
        tmp_path: Path, flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "scan.jpg"
    Image.fromarray(smooth_rgb(20, 30)).save(src, quality=90)
    before = src.read_bytes()
    out = tmp_path / "o"
    for extra in (["--report", str(src)], ["--manifest", str(src)], ["--report", str(tmp_path / "r.png")]):
        if "--retina" in flags and extra[0] == "--manifest":
            continue  # a retina run writes its own manifest.json
        assert main(["--model=bicubic", "-q", *flags, "-o", str(out), *extra, str(src)]) == 2, extra
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and ("one of the inputs" in err or "HTML page" in err), err
    assert src.read_bytes() == before and not out.exists()


def test_the_report_lists_results_notes_and_failures(tmp_path: Path) -> None:
    src = tmp_path / "fig.png"
    Image.fromarray(smooth_rgb(40, 60)).save(src)
    page = tmp_path / "report.html"
    assert main(["--model=bicubic", "-q", "-o", str(tmp_path / "o"), "--report", str(page), str(src),
                 str(tmp_path / "missing.png")]) == 1
    text = page.read_text()
    assert "fig.png" in text and "missing.png" in text and 'class="error"' in text
    assert text.count("data:image/png;base64,") == 2 + 2 * len(busiest_regions(np.zeros((80, 120, 3), np.uint8)))
    assert "http://" not in text and "https://" not in text  # nothing to fetch


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (CI installs it: .ci/run)")
def test_the_report_in_a_headless_browser(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    src = tmp_path / "plate.png"
    Image.fromarray(smooth_rgb(120, 160, seed=3)).save(src)
    page_path = tmp_path / "report.html"
    assert main(["--retina", "--model=bicubic", "-q", "--pipeline-check", "--densities", "1,2", "--formats", "webp",
                 "-o", str(tmp_path / "web"), "--report", str(page_path), str(src)]) == 0
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                     "--disable-background-networking", "--disable-component-update", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
            assert page.evaluate("document.images.length") >= 4
            after = page.locator(".slider .after").first
            before_clip = after.evaluate("e => getComputedStyle(e).clipPath")
            box = page.locator(".slider input").first.bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + 4, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] * 0.85, box["y"] + box["height"] / 2, steps=8)
            page.mouse.up()
            assert int(page.locator(".slider input").first.input_value()) > 70
            assert after.evaluate("e => getComputedStyle(e).clipPath") != before_clip
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []  # no request left the machine
    img = np.asarray(Image.open(shot).convert("L"), np.float32)
    assert img.shape[0] > 300 and img.std() > 10  # text and pictures, not a blank page
