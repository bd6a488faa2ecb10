"""Command line of the benchmark harness (see ``python -m benchmarks --help``)."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import sys
from pathlib import Path

from .protocol import BenchImage, load_bench, score_repair, score_sr, summarize

RESULTS = Path(__file__).resolve().parent / "results"


def _machine() -> str:
    import os

    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _load(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.read_text()) if path.exists() else {}


def _store(args: argparse.Namespace, entries: dict) -> None:  # type: ignore[type-arg]
    """Merge ``entries`` into the results JSON (read just before writing, so runs of other
    tracks stored meanwhile survive) and rewrite BENCHMARKS.md and the plot."""
    from .report import write_report

    out_path = Path(args.out)
    results = _load(out_path)
    results.update(entries)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=1))
    write_report(results, Path(args.markdown), Path(args.plot))


def cmd_run(args: argparse.Namespace) -> int:
    from . import speed
    from .methods import resolve

    images: list[BenchImage] = load_bench(names=args.images)
    out_path = Path(args.out)
    results = _load(out_path)
    results.setdefault("sr", {})
    results.setdefault("repair", {})
    results["machine"] = _machine()
    results["date"] = _dt.date.today().isoformat()
    results["command"] = "python -m benchmarks " + " ".join(sys.argv[1:])
    names = [m for m in args.models.split(",") if m]
    for name in names:
        method, scales = resolve(name)
        if method is None:
            print(f"skip {name}: not installed here", file=sys.stderr)
            continue
        if "sr" in args.tracks:
            for s in args.scales:
                if s not in scales or s == 1:
                    continue
                rows = score_sr(method, images, s)
                entry = {"psnr": summarize(rows), "ssim": summarize(rows, "ssim"), "images": rows}
                if not args.no_speed:
                    sp = speed.measure(name, s, runs=args.runs)
                    if sp:
                        entry["speed"] = sp
                results["sr"].setdefault(name, {})[f"x{s}"] = entry
                print(f"{name} x{s}: PSNR-Y {entry['psnr']['mean']:.2f} SSIM-Y {entry['ssim']['mean']:.4f}"
                      + (f" {entry['speed']['sec_per_mp']:.3f} s/MP" if "speed" in entry else ""), file=sys.stderr)
        if "repair" in args.tracks and 1 in scales:
            rows = score_repair(method, images)
            base = score_repair(None, images)
            by = {}
            for setting in sorted({r["setting"] for r in rows}):
                ours = [r for r in rows if r["setting"] == setting]
                dmg = [r for r in base if r["setting"] == setting]
                by[setting] = {"psnr": summarize(ours), "damaged": summarize(dmg)}
            results["repair"][name] = {"settings": by, "images": rows}
            for setting, v in by.items():
                print(f"{name} repair {setting}: {v['psnr']['mean']:.2f} dB vs damaged {v['damaged']['mean']:.2f}", file=sys.stderr)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=1))
    if not args.no_report:
        from .report import write_report

        write_report(results, Path(args.markdown), Path(args.plot))
    return 0


def cmd_speedprobe(args: argparse.Namespace) -> int:
    from .speed import probe

    print(json.dumps(probe(args.method, args.scale, args.runs)))
    return 0


def cmd_pipeline(args: argparse.Namespace) -> int:
    from .pipeline import run_peers, run_pipeline

    res = run_pipeline(args.models.split(","), args.sizes, Path(args.workdir), repeat=args.repeat)
    if args.peers:
        res += run_peers(args.peers.split(","), Path(args.workdir), repeat=args.repeat)
    key = "pipeline" if not args.key else f"pipeline_{args.key}"
    _store(args, {key: res, "pipeline_machine": _machine()})
    return 0


def cmd_print(args: argparse.Namespace) -> int:
    from .printtrack import run_track

    images = load_bench(names=args.images)
    track = run_track(images, args.sheets, lambda s: print(s, file=sys.stderr), not args.no_peers)
    _store(args, {"print": track, "print_machine": _machine(),
                  "print_command": "python -m benchmarks " + " ".join(sys.argv[1:])})
    return 0


def cmd_press(args: argparse.Namespace) -> int:
    from . import pagetrack, presstrack

    images = load_bench(names=args.images)
    log = lambda s: print(s, file=sys.stderr)  # noqa: E731
    entries: dict[str, object] = {"press_machine": _machine(),
                                  "press_command": "python -m benchmarks " + " ".join(sys.argv[1:])}
    if not args.pages_only:
        entries["press"] = presstrack.run_track(images, log)
    entries["page"] = pagetrack.run_track(images, log, args.sheets)
    _store(args, entries)
    return 0


def cmd_screens(args: argparse.Namespace) -> int:
    from .detector import evaluate_pages

    _store(args, {"screens": evaluate_pages(Path(args.corpus), lambda s: print(s, file=sys.stderr)),
                  "screens_machine": _machine(), "screens_command": "python -m benchmarks " + " ".join(sys.argv[1:])})
    return 0


def cmd_jpeg(args: argparse.Namespace) -> int:
    from .jpegtrack import run_track

    images = load_bench(names=args.images)
    track = run_track(images, lambda s: print(s, file=sys.stderr), not args.no_peers, args.scale, args.sheets)
    key = "jpeg" if args.scale == 2 else f"jpeg_x{args.scale}"
    _store(args, {key: track, f"{key}_machine": _machine(),
                  f"{key}_command": "python -m benchmarks " + " ".join(sys.argv[1:])})
    return 0


def cmd_aliased(args: argparse.Namespace) -> int:
    from .aliasedtrack import methods, run_track

    images = load_bench(names=args.images)
    track = run_track(images, methods(args.models, args.model_dir or None, args.scale), args.sheets,
                      lambda s: print(s, file=sys.stderr), args.scale)
    key = "aliased" if args.scale == 2 else f"aliased_x{args.scale}"
    _store(args, {key: track, f"{key}_machine": _machine(),
                  f"{key}_command": "python -m benchmarks " + " ".join(sys.argv[1:])})
    return 0


def cmd_fine(args: argparse.Namespace) -> int:
    from .finetrack import run_track

    images = load_bench(names=args.images)
    _store(args, {"fine": run_track(images, lambda s: print(s, file=sys.stderr)), "fine_machine": _machine(),
                  "fine_command": "python -m benchmarks " + " ".join(sys.argv[1:])})
    return 0


def cmd_unseen(args: argparse.Namespace) -> int:
    from .methods import ours, resolve
    from .unseen import fetch, load_unseen, run_track

    images = load_unseen(fetch(Path(args.cache)))
    meths = {}
    for name in [m for m in args.models.split(",") if m]:
        method, _ = resolve(name)
        if method is None and args.model_dir:  # a user model of that folder
            method = ours(name, search_dir=Path(args.model_dir))
        if method is None:
            print(f"skip {name}: not installed here", file=sys.stderr)
            continue
        meths[name] = method
    track = run_track(images, meths, tuple(args.scales), lambda s: print(s, file=sys.stderr))
    results = _load(Path(args.out)).get("unseen", {})
    for name, per_scale in track.items():
        results.setdefault(name, {}).update(per_scale)
    _store(args, {"unseen": results, "unseen_machine": _machine(),
                  "unseen_command": "python -m benchmarks " + " ".join(sys.argv[1:])})
    return 0


def cmd_faults(args: argparse.Namespace) -> int:
    from .faults import big_canvas, kill_and_resume

    work = Path(args.workdir)
    res = {"kill": kill_and_resume(work / "kill", args.trials, model=args.model)}
    print(f"faults: {res['kill']}", file=sys.stderr)
    if not args.no_canvas:
        res["canvas"] = big_canvas(work / "canvas", args.canvas_model)
        print(f"faults: {res['canvas']}", file=sys.stderr)
    _store(args, {"faults": res, "faults_machine": _machine(),
                  "faults_command": "python -m benchmarks " + " ".join(sys.argv[1:])})
    return 0


def cmd_retina(args: argparse.Namespace) -> int:
    from .retinatrack import run_track

    images = load_bench(names=args.images)
    track = run_track(images, tuple(args.scales), lambda s: print(s, file=sys.stderr))
    _store(args, {"retina": track, "retina_machine": _machine(),
                  "retina_command": "python -m benchmarks " + " ".join(sys.argv[1:])})
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .serveload import run_load

    runs = [run_load(args.count, args.side, args.model, q, log=lambda s: print(s, file=sys.stderr))
            for q in args.max_queued]
    _store(args, {"serve": runs, "serve_machine": _machine(),
                  "serve_command": "python -m benchmarks " + " ".join(sys.argv[1:])})
    return 0


def cmd_ray(args: argparse.Namespace) -> int:
    from .raytrack import run_track

    _store(args, {"ray": run_track(args.count, args.side, lambda s: print(s, file=sys.stderr)), "ray_machine": _machine(),
                  "ray_command": "python -m benchmarks " + " ".join(sys.argv[1:])})
    return 0


def cmd_zoomplan(args: argparse.Namespace) -> int:
    from .zoomplan import run_plans

    images = load_bench(names=args.images)
    _store(args, {"zoomplan": run_plans(images, lambda s: print(s, file=sys.stderr)), "zoomplan_machine": _machine()})
    return 0


def cmd_sheet(args: argparse.Namespace) -> int:
    from .methods import ours, resolve
    from .sheet import crop_sheet

    images = load_bench(names=args.images)
    methods = {}
    for name in args.models.split(","):
        m = ours(name, search_dir=Path(args.model_dir)) if args.model_dir else resolve(name)[0]
        if m is None:
            print(f"skip {name}: not installed here", file=sys.stderr)
            continue
        methods[name] = m
    crop_sheet(images, args.scale, methods, Path(args.out))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    write_report(_load(Path(args.out)), Path(args.markdown), Path(args.plot))
    return 0


def cmd_trainstep(args: argparse.Namespace) -> int:
    import torch

    from .trainspeed import step_seconds

    print(f"{platform.processor() or platform.machine()}; {args.blocks}-block x{args.scale}, batch of 16 LR patches of 64 px")
    for threads in args.threads:
        torch.set_num_threads(threads)
        row = {p: step_seconds(p, scale=args.scale, blocks=args.blocks) for p in ("fp32", "bf16")}
        print(f"{threads} thread(s): fp32 {row['fp32']:.3f} s, bf16 {row['bf16']:.3f} s per step "
              f"({row['fp32'] / row['bf16']:.2f}x)")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    root = Path(__file__).resolve().parents[1]
    for name in ("run", "pipeline", "print", "press", "screens", "jpeg", "aliased", "retina", "faults", "zoomplan", "serve", "ray", "report",
                 "unseen", "fine"):
        p = sub.add_parser(name)
        p.add_argument("--out", default=str(RESULTS / "results.json"))
        p.add_argument("--markdown", default=str(root / "BENCHMARKS.md"))
        p.add_argument("--plot", default=str(root / "benchmarks" / "psnr_vs_speed.png"))
        if name == "run":
            p.add_argument("--models", default="bicubic,lanczos,raisr,default")
            p.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4])
            p.add_argument("--tracks", default="sr,repair")
            p.add_argument("--images", nargs="*", default=None, help="only these bench images (by name)")
            p.add_argument("--runs", type=int, default=5)
            p.add_argument("--no-speed", action="store_true")
            p.add_argument("--no-report", action="store_true")
            p.set_defaults(fn=cmd_run)
        elif name == "pipeline":
            p.add_argument("--models", default="bicubic,lanczos")
            p.add_argument("--sizes", type=float, nargs="+", default=[1.0, 100.0], help="output megapixels")
            p.add_argument("--workdir", default="/tmp/enhance-pipeline-bench")
            p.add_argument("--peers", default="", help="peers whose whole process to time beside (e.g. waifu2x-cunet)")
            p.add_argument("--key", default="", help="store under pipeline_KEY (several comparisons side by side)")
            p.add_argument("--repeat", type=int, default=3, help="runs per one-picture command (median kept)")
            p.set_defaults(fn=cmd_pipeline)
        elif name == "print":
            p.add_argument("--images", nargs="*", default=None, help="only these bench images (by name)")
            p.add_argument("--sheets", default=str(root / "crops"), help="folder for the before/after crop sheets")
            p.add_argument("--no-peers", action="store_true")
            p.set_defaults(fn=cmd_print)
        elif name == "press":
            p.add_argument("--images", nargs="*", default=None, help="only these bench images (by name)")
            p.add_argument("--pages-only", action="store_true", help="only the mixed-page track")
            p.add_argument("--sheets", default=str(root / "crops"), help="folder for the mixed-page crop sheets")
            p.set_defaults(fn=cmd_press)
        elif name == "screens":
            p.add_argument("--corpus", default=str(root / "data" / "corpus"), help="the built registry corpus")
            p.set_defaults(fn=cmd_screens)
        elif name == "jpeg":
            p.add_argument("--images", nargs="*", default=None, help="only these bench images (by name)")
            p.add_argument("--no-peers", action="store_true")
            p.add_argument("--scale", type=int, choices=(2, 3, 4), default=2,
                           help="the enlargement (results under jpeg, jpeg_x3, jpeg_x4)")
            p.add_argument("--sheets", default=str(root / "crops"),
                           help="folder for the strokes crop sheet (x3 and x4: jpeg_xS_huckfinn_scan.png)")
            p.set_defaults(fn=cmd_jpeg)
        elif name == "aliased":
            p.add_argument("--images", nargs="*", default=None, help="only these bench images (by name)")
            p.add_argument("--models", nargs="*", default=["default", "default:aliased"],
                           help="models to enlarge with; NAME:TYPE asks for a type (default:aliased is --type=aliased)")
            p.add_argument("--model-dir", default="", help="also find user models (ne{S}x-{type}-{name}.safetensors) here")
            p.add_argument("--scale", type=int, default=2, choices=(2, 3, 4),
                           help="the enlargement (results under aliased, aliased_x3, aliased_x4)")
            p.add_argument("--sheets", default=str(root / "crops"), help="folder for the crop sheet")
            p.set_defaults(fn=cmd_aliased)
        elif name == "fine":
            p.add_argument("--images", nargs="*", default=None, help="only these bench images (by name)")
            p.set_defaults(fn=cmd_fine)
        elif name == "unseen":
            p.add_argument("--models", default="pil-bicubic,default,waifu2x-cunet")
            p.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4])
            p.add_argument("--model-dir", default="", help="also find user models (ne{S}x-{type}-{name}.safetensors) here")
            p.add_argument("--cache", default=str(root / "data" / "unseen"), help="the wheels and their images")
            p.set_defaults(fn=cmd_unseen)
        elif name == "retina":
            p.add_argument("--images", nargs="*", default=None, help="only these bench images (by name)")
            p.add_argument("--scales", type=int, nargs="+", default=[2, 3])
            p.set_defaults(fn=cmd_retina)
        elif name == "zoomplan":
            p.add_argument("--images", nargs="*", default=None, help="only these bench images (by name)")
            p.set_defaults(fn=cmd_zoomplan)
        elif name == "serve":
            p.add_argument("--count", type=int, default=50, help="concurrent uploads")
            p.add_argument("--side", type=int, default=128, help="each upload's side in pixels")
            p.add_argument("--model", default="default")
            p.add_argument("--max-queued", type=int, nargs="+", default=[20, 50], help="one run per queue bound")
            p.set_defaults(fn=cmd_serve)
        elif name == "ray":
            p.add_argument("--count", type=int, default=200)
            p.add_argument("--side", type=int, default=256)
            p.set_defaults(fn=cmd_ray)
        elif name == "faults":
            p.add_argument("--trials", type=int, default=30, help="runs killed at a random moment")
            p.add_argument("--model", default="default")
            p.add_argument("--canvas-model", default="bicubic", help="model for the 225 MP canvas (default bicubic)")
            p.add_argument("--no-canvas", action="store_true")
            p.add_argument("--workdir", default="/tmp/enhance-faults")
            p.set_defaults(fn=cmd_faults)
        else:
            p.set_defaults(fn=cmd_report)
    sh = sub.add_parser("sheet", help="before/after crop sheet of several models")
    sh.add_argument("--models", default="bicubic,default")
    sh.add_argument("--scale", type=int, default=2)
    sh.add_argument("--images", nargs="*", default=["chelsea", "castle_painting", "forest", "sailboat_lineart"])
    sh.add_argument("--model-dir", default="", help="also find user models (ne{zoom}x-{type}-{name}.safetensors) here")
    sh.add_argument("--out", default=str(root / "crops" / "sheet.png"))
    sh.set_defaults(fn=cmd_sheet)
    sp = sub.add_parser("speedprobe")
    sp.add_argument("--method", required=True)
    sp.add_argument("--scale", type=int, required=True)
    sp.add_argument("--runs", type=int, default=5)
    sp.set_defaults(fn=cmd_speedprobe)
    ts = sub.add_parser("trainstep", help="one training step's time, fp32 against bf16 autocast")
    ts.add_argument("--scale", type=int, default=2)
    ts.add_argument("--blocks", type=int, default=9)
    ts.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ts.set_defaults(fn=cmd_trainstep)
    args = ap.parse_args(argv)
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
