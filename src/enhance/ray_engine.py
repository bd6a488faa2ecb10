"""``--engine ray``: the same batch spread over a Ray cluster with Ray Data (the ``ray`` extra).

The driver (the ``enhance`` command) plans the batch exactly as the local engine does
(:func:`~enhance.batch.plan_batch`: targets, refusals, ``--skip-existing``), then sends the files
left to compute through ``map_batches`` to a pool of actors, each holding one
:class:`~enhance.treatment.Treatment` (its models loaded once per actor), which computes each
file with :func:`~enhance.batch.compute_file`, the local engine's own code: the same outputs,
byte for byte, written atomically by the worker into the shared output folder. Results come
back to the driver as they finish; it records each in the manifest and reports it.

Faults: an actor that dies (killed, out of memory) is restarted and its file retried, so the
run still completes and every file is recorded once; its half-written temporary is removed at
the end (a local cluster) or by the next run. A driver that dies loses nothing that finished:
the outputs and the manifest's lines are there, and a rerun with ``--skip-existing`` does the
rest.

Sizing: each actor reserves one CPU (or ``num_gpus_per_worker`` of a GPU), and the pool leaves
one of the cluster's CPUs free for Ray Data's own tasks (on 2 CPUs a pool of 2 would starve
them); each actor's ONNX Runtime then uses the cluster's CPUs per actor as threads (a
cluster of unlike nodes is better given ``--ray-workers``).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .batch import (BatchEvent, BatchOptions, FileResult, PlannedFile, clean_output_folders, compute_file, finish,
                    plan_batch)
from .errors import UsageError
from .manifest import Manifest
from .treatment import ModelRequest, Treatment

log = logging.getLogger(__name__)

__all__ = ["RayOptions", "run_batch_ray", "pool_size"]


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide the Ray run is.

    Attributes:
        address: an existing cluster ("auto", or ``HOST:PORT``); None starts a local one for
            this run (all this machine's CPUs) and stops it at the end.
        num_gpus_per_worker: GPUs each actor reserves (0: CPU actors; with ``--device cuda``).
        workers: actors in the pool (None: :func:`pool_size`).
    """

    address: str | None = None
    num_gpus_per_worker: float = 0.0
    workers: int | None = None


def pool_size(cpus: float, gpus: float, num_gpus_per_worker: float, workers: int | None = None) -> int:
    """The actor pool for a cluster of ``cpus`` CPUs and ``gpus`` GPUs: ``workers`` when given
    (never more than the CPUs can hold beside Ray Data's own tasks); on GPUs, as many actors as
    fit; on CPUs, one per CPU but one. At least 1."""
    room = max(1, int(cpus) - 1)  # one CPU left for Ray Data's read and iteration tasks
    if num_gpus_per_worker > 0:
        room = min(room, max(1, int(gpus // num_gpus_per_worker)))
    return max(1, min(room, workers)) if workers else room


class _Worker:
    """A Ray Data actor: one Treatment, loaded once; computes one planned file per row."""

    def __init__(self, request: ModelRequest, repair: str, auto: bool, opts: BatchOptions, count: int,
                 threads: int) -> None:
        os.environ["OMP_NUM_THREADS"] = str(threads)  # ONNX Runtime's threads in this actor
        self.treatment = Treatment(request, repair=repair, auto=auto)
        self.opts, self.count = opts, count

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows: dict[str, list[Any]] = {k: [] for k in ("index", "source", "target", "status", "message", "notes", "regions", "pid")}
        for i, src, tgt, notes in zip(batch["index"], batch["source"], batch["target"], batch["notes"]):
            p = PlannedFile(int(i), Path(str(src)), Path(str(tgt)), notes=json.loads(str(notes)))
            res = compute_file(p, self.treatment, self.opts, self.count)
            rows["index"].append(int(i))
            rows["source"].append(str(src))
            rows["target"].append(str(res.output) if res.output is not None else "")
            rows["status"].append(res.status)
            rows["message"].append(res.message)
            rows["notes"].append(json.dumps(res.notes))
            rows["regions"].append(json.dumps(res.regions))
            rows["pid"].append(os.getpid())
        return {k: np.array(v) for k, v in rows.items()}


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """A one-line error now for a cluster address nothing answers at (``ray.init`` would retry
    for minutes)."""
    import socket

    host, _, port = address.rpartition(":")
    host = host.removeprefix("ray://").strip("[]") or "127.0.0.1"
    if not port.isdigit():
        raise UsageError(f"--ray-address {address}: give auto or HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise UsageError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); "
                         "is it started (ray start --head)?") from None


def run_batch_ray(files: list[Path], treatment: Treatment, opts: BatchOptions, ray_options: RayOptions = RayOptions(), progress: Callable[[BatchEvent], None] | None = None,
                  roots: dict[Path, Path] | None = None, manifest: Manifest | None = None) -> list[FileResult]:
    """:func:`~enhance.batch.run_batch` on Ray: the same plan, outputs and results.

    Returns:
        One :class:`~enhance.batch.FileResult` per input, in order (``seconds`` is the time from
        the start of the computing to the file's result reaching the driver).

    Raises:
        UsageError: Ray is not installed, or the cluster cannot be reached.
    """
    import time

    try:
        import ray
    except ImportError:
        raise UsageError("--engine ray needs the ray extra: pip install 'enhance[ray]'") from None
    if not log.isEnabledFor(logging.DEBUG):  # Ray's own progress lines are not the command's output
        for name in ("ray", "ray.data"):
            logging.getLogger(name).setLevel(logging.WARNING)
    if treatment._given:
        raise UsageError("--engine ray builds each worker's models from their names: give a model name, not a loaded model")
    request, repair, auto = treatment.request, treatment.repair, treatment.auto
    n = len(files)
    results: dict[int, FileResult] = {}
    todo: list[PlannedFile] = []
    for p in plan_batch(files, treatment, opts, roots, manifest):
        if p.result is None:
            todo.append(p)
            continue
        finish(p.result, manifest)
        results[p.index] = p.result
        if progress:
            progress(BatchEvent("done", p.index, n, p.source, result=p.result))
    if not todo:
        return [results[i] for i in range(n)]
    started = not ray.is_initialized()
    if started and ray_options.address and ray_options.address != "auto":
        _check_reachable(ray_options.address)
    if started:
        try:
            if ray_options.address:
                ray.init(address=ray_options.address, include_dashboard=False, logging_level=logging.WARNING,
                         log_to_driver=False)
            else:
                ray.init(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise UsageError(f"cannot reach the Ray cluster at {ray_options.address or 'a new local one'}: {exc}") from None
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        res = ray.cluster_resources()
        cpus, gpus = float(res.get("CPU", 1)), float(res.get("GPU", 0))
        pool = pool_size(cpus, gpus, ray_options.num_gpus_per_worker, ray_options.workers)
        threads = max(1, int(cpus) // pool)
        log.info("ray: %d actor%s on %g CPUs%s", pool, "" if pool == 1 else "s", cpus, f", {gpus:g} GPUs" if gpus else "")
        # absolute paths: an actor's working folder is not the command's (on a cluster, the
        # paths must name shared storage alike on every node)
        items = [{"index": p.index, "source": os.path.abspath(p.source), "target": os.path.abspath(p.target),
                  "notes": json.dumps(p.notes)} for p in todo]
        ds = ray.data.from_items(items, override_num_blocks=len(items))
        out = ds.map_batches(_Worker, batch_size=1, concurrency=pool, num_cpus=1,
                             num_gpus=ray_options.num_gpus_per_worker or None,
                             fn_constructor_kwargs={"request": request, "repair": repair, "auto": auto, "opts": opts,
                                                    "count": n, "threads": threads},
                             max_restarts=-1, max_task_retries=-1)
        t0 = time.perf_counter()
        by_index = {p.index: p for p in todo}
        for row in out.iter_rows():
            i = int(row["index"])
            p = by_index[i]
            if progress:
                progress(BatchEvent("file", i, n, p.source))
            def named(text: str, p: PlannedFile = p) -> str:  # the paths as the command was given them
                return text.replace(os.path.abspath(p.target), str(p.target)).replace(os.path.abspath(p.source),
                                                                                       str(p.source))

            r = FileResult(p.source, p.target, str(row["status"]), named(str(row["message"])),
                           [named(x) for x in json.loads(str(row["notes"]))], time.perf_counter() - t0,
                           [tuple(b) for b in json.loads(str(row["regions"]))])
            finish(r, manifest)
            results[i] = r
            if progress:
                progress(BatchEvent("done", i, n, p.source, result=r))
    finally:
        if started:
            ray.shutdown()
    # every actor of this run has finished: what a killed one left half-written goes now
    clean_output_folders(files, treatment.zoom, opts, {os.path.realpath(f) for f in files}, roots or {})
    missing = [i for i in range(n) if i not in results]
    for i in missing:  # never expected: Ray returns every row or raises
        results[i] = FileResult(files[i], None, "failed", f"{files[i]}: no result came back from the cluster")
    return [results[i] for i in range(n)]
