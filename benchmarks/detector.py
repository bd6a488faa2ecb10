"""The screen detector's record: recall on simulated prints, "no screen" on unscreened images, time.

    python -m benchmarks.detector

* every bench image as it is (none is a halftone print; huckfinn_scan is a line engraving):
  the detector must say "no screen";
* every bench image printed and scanned at each AM setting of the print track: it should find
  the screen (and its period, within 10 %);
* the FM setting is reported but not expected (a stochastic screen has no spectral peak; the
  descreen model is trained on it anyway);
* the median time of one ``detect_screen`` call on a 512 x 512 crop (the size it analyses).

Prints one JSON object.
"""

from __future__ import annotations

import json
import statistics
import time

import numpy as np

from enhance.descreen import detect_screen

from .printtrack import PRINT_SETTINGS, simulate
from .protocol import load_bench


def evaluate() -> dict[str, object]:
    """Run the detector over the bench and its simulated prints; see the module docstring."""
    images = load_bench()
    false_alarms = [im.name for im in images if detect_screen(im.hr).found]
    per_setting: dict[str, dict[str, object]] = {}
    for case in PRINT_SETTINGS:
        hits, period_ok, missed = 0, 0, []
        for i, im in enumerate(images):
            scan, _truth = simulate(im, case, i)
            r = detect_screen(scan, case.settings.dpi)
            if r.found:
                hits += 1
                if case.settings.screen == "am" and r.period and abs(r.period / case.settings.period - 1) <= 0.1:
                    period_ok += 1
            else:
                missed.append(im.name)
        per_setting[case.key] = {"found": hits, "of": len(images), "period_within_10pct": period_ok,
                                 "missed": missed, "expected": case.settings.screen == "am"}
    am = [v for v in per_setting.values() if v["expected"]]
    crop = np.asarray(simulate(images[0], PRINT_SETTINGS[0], 0)[0])[:512, :512]
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        detect_screen(crop)
        times.append(time.perf_counter() - t0)
    return {"false_alarms": false_alarms, "unscreened_images": len(images),
            "am_found": sum(int(v["found"]) for v in am), "am_scans": sum(int(v["of"]) for v in am),
            "am_period_within_10pct": sum(int(v["period_within_10pct"]) for v in am),
            "per_setting": per_setting, "seconds_per_call_512": statistics.median(times)}


if __name__ == "__main__":
    print(json.dumps(evaluate(), indent=1))
