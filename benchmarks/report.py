"""BENCHMARKS.md tables and the PSNR-versus-speed plot, from the JSON results."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .protocol import CLASSES

PEER_FIGURES = {  # from ../shared/BENCH.md, for reference beside our own measurements
    "waifu2x cunet (BENCH.md)": {"x2": 32.98, "x4": 27.20},
    "waifu2x upconv_7 (BENCH.md)": {"x2": 32.31, "x4": 27.15},
    "anime4k ARNet (BENCH.md)": {"x2": 30.67, "x3": 27.92, "x4": 26.13},
    "UpscalerJS esrgan-thick (BENCH.md)": {"x2": 29.73, "x3": 27.97, "x4": 26.62},
}


def _fmt(v: object, nd: int = 2) -> str:
    return f"{v:.{nd}f}" if isinstance(v, (int, float)) else "–"


def sr_tables(results: dict) -> list[str]:  # type: ignore[type-arg]
    lines: list[str] = []
    sr = results.get("sr", {})
    scales = sorted({k for m in sr.values() for k in m}, key=lambda k: int(k[1:]))
    for sc in scales:
        lines += [f"### {sc} super-resolution (mean PSNR-Y / SSIM-Y over the bench, per class PSNR-Y)", ""]
        head = "| method | PSNR-Y | SSIM-Y | " + " | ".join(CLASSES) + " | s / output MP | × Pillow bicubic | peak RSS MB |"
        lines += [head, "|" + "---|" * (head.count("|") - 1)]
        ranked = sorted(((n, m[sc]) for n, m in sr.items() if sc in m), key=lambda t: t[1]["psnr"]["mean"])
        for name, e in ranked:
            sp = e.get("speed", {})
            cls = " | ".join(_fmt(e["psnr"].get(c)) for c in CLASSES)
            lines.append(f"| {name} | {_fmt(e['psnr']['mean'])} | {_fmt(e['ssim']['mean'], 4)} | {cls} | "
                         f"{_fmt(sp.get('sec_per_mp'), 3)} | {_fmt(sp.get('ratio_to_bicubic'), 1)} | {_fmt(sp.get('max_rss_mb'), 0)} |")
        lines.append("")
    return lines


def repair_tables(results: dict) -> list[str]:  # type: ignore[type-arg]
    rep = results.get("repair", {})
    if not rep:
        return []
    lines = ["### x1 repair (PSNR-Y against the original; the damaged input beside it)", ""]
    settings = sorted({s for m in rep.values() for s in m["settings"]})
    lines += ["| method | " + " | ".join(settings) + " |", "|---|" + "---|" * len(settings)]
    first = next(iter(rep.values()))
    lines.append("| damaged input | " + " | ".join(_fmt(first["settings"][s]["damaged"]["mean"]) for s in settings) + " |")
    for name, m in rep.items():
        cells = []
        for s in settings:
            v = m["settings"][s]
            cells.append(f"{_fmt(v['psnr']['mean'])} ({v['psnr']['mean'] - v['damaged']['mean']:+.2f})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def print_tables(results: dict) -> list[str]:  # type: ignore[type-arg]
    pr = results.get("print")
    if not pr:
        return []
    import numpy as np

    lines = ["### Print track: descreening simulated scans (PSNR-Y against the continuous-tone original, "
             "4 px border; in brackets the residual error power at the screen frequency, dB, lower is better)", "",
             f"Command: `{results.get('print_command', 'python -m benchmarks print')}`", ""]
    keys = [k for k in pr if not k.startswith("_")]
    lines += ["| method | " + " | ".join(keys) + " | mean |", "|---|" + "---|" * (len(keys) + 1)]

    def family(name: str) -> str:
        return name.split(" (")[0]

    fams: dict[str, dict[str, tuple[str, float, float | None]]] = {}
    for k in keys:
        for name, rows in pr[k]["methods"].items():
            p = float(np.mean([r["psnr"] for r in rows]))
            e = [r["screen_db"] for r in rows if r.get("screen_db") is not None]
            fams.setdefault(family(name), {})[k] = (name, p, float(np.mean(e)) if e else None)
    for fam, per in sorted(fams.items(), key=lambda t: np.mean([v[1] for v in t[1].values()])):
        cells = []
        for k in keys:
            if k in per:
                name, p, e = per[k]
                extra = name[len(fam):].strip(" ()").replace("best ", "")
                cells.append(f"{p:.2f}" + (f" [{e:.1f}]" if e is not None else "") + (f" ({extra})" if extra else ""))
            else:
                cells.append("–")
        mean = np.mean([v[1] for v in per.values()]) if len(per) == len(keys) else None
        lines.append(f"| {fam} | " + " | ".join(cells) + f" | {_fmt(mean)} |")
    lines.append("")
    lines += ["Settings: " + "; ".join(f"`{k}` {pr[k]['label']}" + (f" (period {pr[k]['period']:.2f} px)" if pr[k].get("period") else "")
                                      for k in keys) + ".", ""]
    lines += ["Crop sheets (original, scan, best Gaussian, notch, peers, Enhance; 2x nearest): "
              + ", ".join(f"[{k}](crops/print_{k}.png)" for k in keys), ""]
    pt = pr.get("_passthrough")
    if pt:
        lines += ["Unscreened line work forced through the descreener (`--type=print` on a file without a screen; "
                  "`--auto` leaves such files alone): PSNR-Y of the output against the input, and the share of the "
                  "input's gradient energy kept.", "", "| method | " + " | ".join(r["image"] for r in next(iter(pt.values()))) + " |",
                  "|---|" + "---|" * len(next(iter(pt.values())))]
        for name, rows in pt.items():
            lines.append(f"| {name} | " + " | ".join(f"{r['psnr_vs_input']:.2f} dB, {100 * r['gradient_energy_kept']:.0f} %" for r in rows) + " |")
        lines += ["", "Crop sheet of huckfinn's engraving forced through them: "
                  "[print_passthrough_huckfinn_scan](crops/print_passthrough_huckfinn_scan.png)"]
        lines.append("")
    return lines



def press_tables(results: dict) -> list[str]:  # type: ignore[type-arg]
    """The press track (both families against the screenless print) and the mixed-page track."""
    import numpy as np

    lines: list[str] = []
    pr = results.get("press")
    if pr:
        keys = list(pr)
        lines += ["### Press track: descreening against the print seen without its screen, on the trained press (A) "
                  "and a held-out one (B)", "",
                  "PSNR-Y (4 px border), and in brackets the tone error: RMS of the RGB low-pass difference "
                  "(Gaussian sigma 4), 8-bit levels, lower is better. Family B (`benchmarks/pressb.py`: chain, square "
                  "and line dots, another rosette, inks with cross-absorption, GCR, tinted paper, dot gain as a tone "
                  "curve, box-aperture and sharpening scanners, a 1-bit scan, JPEG) is never drawn from in training.",
                  "", f"Command: `{results.get('press_command', 'python -m benchmarks press')}`", "",
                  "| method | " + " | ".join(f"{k} ({pr[k]['family'][0]})" for k in keys) + " | mean A | mean B |",
                  "|---|" + "---|" * (len(keys) + 2)]
        fams: dict[str, dict[str, tuple[float, float, str]]] = {}
        for k in keys:
            for name, rows in pr[k]["methods"].items():
                fam = name.split(" (best")[0]
                fams.setdefault(fam, {})[k] = (float(np.mean([r["psnr"] for r in rows])),
                                               float(np.mean([r["tone"] for r in rows])), name[len(fam):].strip(" ()"))
        for fam, per in fams.items():
            cells = [f"{per[k][0]:.2f} [{per[k][1]:.1f}]" + (f" ({per[k][2].replace('best ', '')})" if per[k][2] else "")
                     for k in keys]
            ma = np.mean([per[k][0] for k in keys if pr[k]["family"].startswith("A")])
            mb = np.mean([per[k][0] for k in keys if pr[k]["family"].startswith("B")])
            lines.append(f"| {fam} | " + " | ".join(cells) + f" | {ma:.2f} | {mb:.2f} |")
        lines += ["", "Settings: " + "; ".join(f"`{k}` {pr[k]['label']}" for k in keys) + ".", ""]
    pg = results.get("page")
    if pg:
        lines += ["### Mixed-page track: pages of type with a halftoned photo off their centre, `--zoom=1`", "",
                  "PSNR-Y of the photo region against the print without its screen, and of the type (48 px and more "
                  "from the photo) against the plain path's output, which `--auto` should leave as it is (99 = "
                  "identical). Pages of 1024 x 768 from `enhance.train.textpage`, photos from the bench "
                  "(`benchmarks/pagetrack.py`).", "",
                  "| press | way | photo (dB) | type (dB) | pages |", "|---|---|---|---|---|"]
        for k, entry in pg.items():
            rows = entry["pages"]
            for way in ("plain", "--type=print", "--auto"):
                ph = np.mean([r[way]["photo"] for r in rows])
                ty = np.mean([r[way]["type"] for r in rows])
                lines.append(f"| {entry['label']} | `{way}` | {ph:.2f} | {ty:.2f} | {len(rows)} |")
            if all("best blur" in r for r in rows):
                ph = np.mean([r["best blur"]["photo"] for r in rows])
                lines.append(f"| {entry['label']} | best Gaussian blur (sigma chosen per page) | {ph:.2f} | – | {len(rows)} |")
        lines.append("")
    return lines

def screens_table(results: dict) -> list[str]:  # type: ignore[type-arg]
    """The screen detector on issue 19's cases (``python -m benchmarks screens``)."""
    import numpy as np

    sc = results.get("screens")
    if not sc:
        return []
    b, f, pg, mc = sc["bench"], sc["false_screens"], sc["whole_pages"], sc["map_cost"]

    def hits(entry: dict, key: str = "false_screens") -> str:  # type: ignore[type-arg]
        names = [str(n).rsplit("/", 1)[-1] if str(n).startswith("/") else str(n) for n in entry[key]]
        return f"{len(names)} of {entry['of']}" + (f" ({', '.join(names[:6])}{' ...' if len(names) > 6 else ''})" if names else "")

    pages = pg["pages"]
    outside = sum(r["outside_px"] for r in pages) / max(1, len(pages))
    missed = sum(r["missed_px"] for r in pages) / max(1, len(pages))
    lines = ["### Screen detector: false screens, whole pages, cost", "",
             f"Command: `{results.get('screens_command', 'python -m benchmarks screens')}` on "
             f"{results.get('screens_machine', '?')} (`benchmarks/detector.py`). A false screen is an unscreened "
             "image the detector takes for a halftone; without the file's DPI unless said.", "",
             "| case | result |", "|---|---|",
             f"| bench images as they are | {len(b['false_alarms'])} of {b['unscreened_images']} taken for a screen |",
             f"| bench printed at the print track's AM settings | found in {b['am_found']} of {b['am_scans']}, "
             f"period within 10 % in {b['am_period_within_10pct']} |",
             f"| corpus clip-art (line art) | {hits(f['clipart'])} |",
             f"| corpus paintings | {hits(f['art'])} |",
             f"| corpus textures (grids, papers, wood, patterns; 512 px crops, full size and halved) | "
             f"{hits(f['corpus_textures'])}; at 300 dpi {hits(f['corpus_textures'], 'false_screens_at_300dpi')} |",
             f"| generated textures (graph paper, plain and twill weaves, line grids, fibre; 2.5-12 px) | "
             f"{hits(f['synthetic_textures'])}; at 300 dpi {hits(f['synthetic_textures'], 'false_screens_at_300dpi')} |",
             *([f"| the same generator, six other seeds (1-6; the modulation rules' thresholds were chosen with them) | "
                f"{hits(f['synthetic_textures_more'])}; at 300 dpi "
                f"{hits(f['synthetic_textures_more'], 'false_screens_at_300dpi')} |"] if "synthetic_textures_more" in f else []),
             *([f"| held out: six more seeds (14-19), no threshold chosen on them | "
                f"{hits(f['synthetic_textures_held'])}; at 300 dpi "
                f"{hits(f['synthetic_textures_held'], 'false_screens_at_300dpi')} |",
                f"| held out: the same 150 under uneven light (a gradient darkening one side by 15-35 %) | "
                f"{hits(f['synthetic_textures_held_lit'])}; at 300 dpi "
                f"{hits(f['synthetic_textures_held_lit'], 'false_screens_at_300dpi')} |"] if "synthetic_textures_held" in f else []),
             *([f"| false line screens (`detect_line_screen`, what `--type=print` and `--auto` blur across): clip-art, "
                f"paintings, the 500 textures | {hits(f['clipart'], 'false_line_screens')}; {hits(f['art'], 'false_line_screens')}; "
                + "; ".join(hits(f[k], 'false_line_screens') for k in ('corpus_textures', 'synthetic_textures', 'synthetic_textures_more', 'synthetic_textures_held',
                                                              'synthetic_textures_held_lit') if k in f)
                + " |"] if "false_line_screens" in f["clipart"] else []),
             f"| whole pages: type with a printed photo off centre (10 bench images; presses A, B, and B at 300 dpi) | photo found on "
             f"{pg['found']} of {pg['of']}; type 48 px or more from the photo marked on {pg['with_type_marked']}; "
             f"area error {100 * pg['mean_area_error']:.1f} % of the photo (mean; median "
             f"{100 * float(np.median([r['area_error'] for r in pages])):.1f} %; {outside:,.0f} px marked outside it, "
             f"{missed:,.0f} px of it missed, per page) |",
             f"| cost on a 300 dpi letter page ({mc['page'][0]} x {mc['page'][1]}) | screen map {mc['tiles_s']:.2f} s, "
             f"with the pixel mask {mc['map_s']:.2f} s; a plain `default` x2 run of the page {mc['x2_s']:.1f} s: "
             f"{100 * mc['share']:.1f} % of it |", ""]
    return lines


def aliased_table(results: dict, key: str = "aliased") -> list[str]:  # type: ignore[type-arg]
    """x2 (``aliased``; ``aliased_x3``, ``aliased_x4``) from antialiased, box-reduced,
    point-sampled and held-out scanner LR (``python -m benchmarks aliased``)."""
    import numpy as np

    al = results.get(key)
    scale = int(key.rpartition("_x")[2]) if "_x" in key else 2
    if not al:
        return []
    kernels = list(al)
    names = list(al[kernels[0]])

    def cell(rows: list) -> str:  # type: ignore[type-arg]
        p = np.mean([r["psnr"] for r in rows])
        s2 = [r["ssimulacra2"] for r in rows if r.get("ssimulacra2") is not None]
        return f"{p:.2f}" + (f" / {np.mean(s2):.1f}" if s2 else "")

    sheet = f"crops/aliased{'' if scale == 2 else f'_x{scale}'}_huckfinn_scan.png"
    lines = [f"### Aliased track: x{scale} from LR that was never antialiased", "",
             f"Command: `{results.get(key + '_command', 'python -m benchmarks aliased')}` on "
             f"{results.get(key + '_machine', '?')} (`benchmarks/aliasedtrack.py`). Each bench image reduced x{scale} by "
             "the training's kernels (the protocol's MATLAB bicubic, a box filter, point sampling: one pixel "
             f"in {scale} each way) and by a scanner no training draws from (optics of 0.35 LR pixels sampled at each "
             f"pixel's centre), then enlarged x{scale}; mean PSNR-Y / SSIMULACRA2 against the HR. Crop sheet: "
             f"[{sheet}]({sheet}).", "",
             "| method | " + " | ".join(kernels) + " |", "|---" * (len(kernels) + 1) + "|"]
    lines += [f"| {n} | " + " | ".join(cell(al[k][n]) for k in kernels) + " |" for n in names]
    return lines + [""]


def jpeg_tables(results: dict, key: str = "jpeg") -> list[str]:  # type: ignore[type-arg]
    """The JPEG track at one scale (``jpeg`` is x2, ``jpeg_x3`` x3): mean PSNR-Y per quality, with
    SSIMULACRA2 beside it where the rows carry it, and per class for what the command does."""
    jp = results.get(key)
    if not jp:
        return []
    import numpy as np

    from .jpegtrack import best_denoise

    scale = int(key.rsplit("_x", 1)[1]) if "_x" in key else 2
    keys = list(jp)
    lines = [f"### JPEG track: small JPEGs enlarged x{scale} (MATLAB-bicubic LR saved as JPEG at each quality; "
             f"PSNR-Y against the HR, {max(2, scale)} px border" + ("; / SSIMULACRA2" if scale > 2 else "") + ")", "",
             f"Command: `{results.get(key + '_command', 'python -m benchmarks jpeg')}`"
             + (f" on {results[key + '_machine']}" if results.get(key + "_machine") and scale > 2 else ""), "",
             "| method | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    best = best_denoise(jp)

    def mean(k: str, name: str, klass: str | None = None) -> float:
        return float(np.mean([r["psnr"] for r in jp[k]["methods"][name] if klass in (None, r["class"])]))

    def cell(k: str, name: str) -> str:
        rows = jp[k]["methods"][name]
        s2 = [r["ssimulacra2"] for r in rows if r.get("ssimulacra2") is not None]
        return _fmt(mean(k, name)) + (f" / {np.mean(s2):.1f}" if len(s2) == len(rows) else "")

    names = list(dict.fromkeys(n for k in keys for n in jp[k]["methods"] if not n.startswith("waifu2x cunet noise")))
    for name in names:
        lines.append(f"| {name} | " + " | ".join(cell(k, name) if name in jp[k]["methods"] else "–" for k in keys) + " |")
    if best:
        cells = [f"{mean(k, best[k]):.2f} ({best[k].rsplit(' ', 1)[1]})" if k in best else "–" for k in keys]
        lines.append("| waifu2x cunet, best denoise level | " + " | ".join(cells) + " |")
    auto = "default, --repair auto"
    per_q = []
    for k in keys:
        classes = dict.fromkeys(r["class"] for r in jp[k]["methods"][auto])
        per_q.append(f"{k}: " + ", ".join(f"{c} {mean(k, auto, c):.2f}" + (f" / {mean(k, best[k], c):.2f}" if k in best else "")
                                          for c in classes))
    lines += ["", "Per class (PSNR-Y, `default, --repair auto` / best waifu2x where measured): " + "; ".join(per_q), ""]
    return lines


def pipeline_table(results: dict, key: str = "pipeline", title: str = "") -> list[str]:  # type: ignore[type-arg]
    rows = results.get(key)
    if not rows:
        return []
    lines = [title or "### Whole command: `enhance --zoom=2` (fresh process: import, load, read, tiles, write)", "",
             "| model | output | format | seconds (median) | each run | s / output MP | peak RSS MB |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        runs = ", ".join(f"{t:.2f}" for t in r.get("runs", [r["seconds"]]))
        lines.append(f"| {r['model']} | {r['output_mp']} MP | {r['format']} | {r['seconds']} | {runs} | {r['sec_per_mp']} | {r['max_rss_mb']} |")
    lines.append("")
    return lines


def retina_table(results: dict) -> list[str]:  # type: ignore[type-arg]
    rt = results.get("retina")
    if not rt:
        return []
    from .retinatrack import PIPELINE

    keys = ["none"] + [f"{f}{q}" for f, q in PIPELINE]
    names = {"none": "before the pipeline", **{f"{f}{q}": f"after {f.upper()} {q}" for f, q in PIPELINE}}
    lines = ["### Retina track: the gain over a Lanczos enlargement, before and after the web pipeline", "",
             f"Command: `{results.get('retina_command', 'python -m benchmarks retina')}`. Bench HR as the @2x/@3x "
             "truth, the protocol's LR as the scan; `default` against Lanczos-3, both (and the truth) through "
             "the pipeline's encoder; mean over the bench, PSNR-Y dB / SSIMULACRA2.", "",
             "| asset | " + " | ".join(names[k] for k in keys) + " |", "|---|" + "---|" * len(keys)]
    for sc, rows in rt.items():
        cells = []
        for k in keys:
            e = np.mean([r[k]["enhance_psnr"] for r in rows]); p = np.mean([r[k]["lanczos_psnr"] for r in rows])
            es = np.mean([r[k]["enhance_ssimulacra2"] for r in rows]); ps = np.mean([r[k]["lanczos_ssimulacra2"] for r in rows])
            cells.append(f"{e:.2f} vs {p:.2f} (**{e - p:+.2f}**) / {es:.1f} vs {ps:.1f} (**{es - ps:+.1f}**)")
        lines.append(f"| @{sc[1:]}x | " + " | ".join(cells) + " |")
    return lines + [""]


def zoomplan_table(results: dict) -> list[str]:  # type: ignore[type-arg]
    zp = results.get("zoomplan")
    if not zp:
        return []
    lines = ["### x8: which two models in turn (`python -m benchmarks zoomplan`; LR by MATLAB bicubic /8, "
             "PSNR-Y, 8 px border)", "", "| plan | PSNR-Y | " + " | ".join(CLASSES) + " |", "|---|---|" + "---|" * len(CLASSES)]
    for name, rows in zp.items():
        per = {c: [r["psnr"] for r in rows if r["class"] == c] for c in CLASSES}
        cells = " | ".join(_fmt(sum(v) / len(v)) if v else "–" for v in per.values())
        lines.append(f"| {name} | {_fmt(sum(r['psnr'] for r in rows) / len(rows))} | {cells} |")
    return lines + [""]


def faults_table(results: dict) -> list[str]:  # type: ignore[type-arg]
    f = results.get("faults")
    if not f:
        return []
    k = f["kill"]
    lines = ["### Faults: killed at random moments, then resumed", "",
             f"Command: `{results.get('faults_command', 'python -m benchmarks faults')}` "
             f"({results.get('faults_machine', '?')})", "",
             "| runs killed (SIGKILL) | files | partial outputs | kills that left a temporary | leaks after resume | resume complete |",
             "|---|---|---|---|---|---|",
             f"| {k['trials']} | {k['files']} ({k['model']}, a whole run {k['whole_run_s']} s) | {k['partial_outputs']} | "
             f"{k['kills_that_left_temporaries']} | {k['leaks_after_resume']} | {'yes' if k['resume_complete'] else 'NO'} |", ""]
    c = f.get("canvas")
    if c:
        lines += [f"A {c['input_bytes']}-byte GIF with a {c['canvas']} canvas enlarged x2 to a {c['output']} "
                  f"({c['model']}): exit {c['rc']}, output whole: {'yes' if c['output_whole'] else 'no'}, "
                  f"{c['seconds']} s, peak RSS {c['peak_rss_mb']} MB (the output streams).", ""]
    return lines


def plot(results: dict, path: Path) -> None:  # type: ignore[type-arg]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sr = results.get("sr", {})
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    markers = {"x2": "o", "x3": "s", "x4": "^"}
    colours: dict[str, str] = {}
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for name, m in sorted(sr.items()):
        colours.setdefault(name, palette[len(colours) % len(palette)])
        for sc, e in m.items():
            sp = e.get("speed", {}).get("sec_per_mp")
            if sp is None:
                continue
            ax.scatter(sp, e["psnr"]["mean"], marker=markers.get(sc, "o"), color=colours[name], s=50)
            ax.annotate(f"{name} {sc}", (sp, e["psnr"]["mean"]), fontsize=7, xytext=(4, 2), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("seconds per output megapixel (2 CPU cores, log scale)")
    ax.set_ylabel("mean PSNR-Y on the bench (dB)")
    ax.set_title("Quality against speed (o x2, s x3, ^ x4): up and left is better")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)



def serve_table(results: dict) -> list[str]:  # type: ignore[type-arg]
    """The load on ``enhance serve``."""
    runs = results.get("serve")
    if not runs:
        return []
    lines = ["### `enhance serve` under load (loopback, 1 worker)", "",
             f"Command: `{results.get('serve_command', 'python -m benchmarks serve')}` on {results.get('serve_machine', '?')}. "
             "Each client uploads one picture and polls its job until done; a refused upload (503) is not retried.", "",
             "| uploads at once | picture | queue bound | done | refused (503) | lost | jobs/min | p50 | p95 | RSS idle | after 1 job | peak |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['uploads']} | {r['side']}² x2 {r['model']} | {r['max_queued']} | {r['done']} | {r['refused_503']} | "
                     f"{r['lost_or_failed']} | {r['jobs_per_minute']} | {r['p50_s']} s | {r['p95_s']} s | {r['rss_idle_mb']} MB | "
                     f"{r['rss_after_warmup_mb']} MB | {r['rss_peak_mb']} MB |")
    lines.append("")
    return lines


def ray_table(results: dict) -> list[str]:  # type: ignore[type-arg]
    """Local engine against --engine ray on this machine."""
    r = results.get("ray")
    if not r:
        return []
    return ["### A batch on Ray (`--engine ray`) beside the local engine, this machine", "",
            f"Command: `{results.get('ray_command', 'python -m benchmarks ray')}` on {results.get('ray_machine', '?')}: "
            f"{r['count']} scans of {r['side']}x{r['side']}, {r['model']}, each engine a whole command in a new process "
            "(Ray starting its own local cluster).", "",
            "| engine | wall | images per minute |", "|---|---|---|",
            f"| local | {r['local']['wall_s']} s | {r['local']['images_per_minute']} |",
            f"| ray | {r['ray']['wall_s']} s | {r['ray']['images_per_minute']} |", "",
            f"Outputs identical byte for byte: {'yes' if r['identical_outputs'] else 'NO'}.", ""]

def write_report(results: dict, markdown: Path, plot_path: Path, extra: str | None = None) -> None:  # type: ignore[type-arg]
    """Write the measured part of BENCHMARKS.md between its markers, and the plot."""
    body = [f"Measured {results.get('date', '?')} on {results.get('machine', '?')}.", "",
            f"Command: `{results.get('command', 'python -m benchmarks run')}`", ""]
    body += sr_tables(results) + repair_tables(results) + print_tables(results) + press_tables(results) + screens_table(results) + jpeg_tables(results) + jpeg_tables(results, "jpeg_x3") + jpeg_tables(results, "jpeg_x4") + aliased_table(results) + aliased_table(results, "aliased_x3") + aliased_table(results, "aliased_x4")
    body += retina_table(results) + zoomplan_table(results) + faults_table(results)
    body += serve_table(results) + ray_table(results) + pipeline_table(results)
    body += pipeline_table(results, "pipeline_compare", "### Whole process beside a peer, same input, same run (1 MP output, x2, PNG)")
    if results.get("sr"):
        plot(results, plot_path)
        body += [f"![PSNR against speed]({plot_path.relative_to(markdown.parent) if plot_path.is_relative_to(markdown.parent) else plot_path})", ""]
    start, end = "<!-- measured:start -->", "<!-- measured:end -->"
    text = markdown.read_text() if markdown.exists() else f"# Benchmarks\n\n{start}\n{end}\n"
    if start not in text:
        text += f"\n{start}\n{end}\n"
    pre, rest = text.split(start, 1)
    post = rest.split(end, 1)[1] if end in rest else ""
    markdown.write_text(pre + start + "\n" + "\n".join(body) + "\n" + end + post)
