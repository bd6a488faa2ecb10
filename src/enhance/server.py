"""``enhance serve``: a local web page and JSON API over the library (the ``serve`` extra).

Every upload is treated as hostile. A request never names a path: uploads are stored under
names the server makes (the upload's name, reduced to letters, digits, ``.``, ``-`` and ``_``,
made unique), in a per-job folder under one temporary root; outputs are found by job id and
the name the server gave them, looked up in the job, never joined from the request. Bodies are
capped before they are read (``--max-upload-mb``: 413), a file's type is decided by its content
(what :func:`enhance.image.open_image` can read), its pixel count by the command's
``--max-pixels`` guard, and a bad file fails its own entry with the command's one-line error.
Jobs queue behind a pool of ``--workers`` threads, each holding its own models (one
:class:`~enhance.treatment.Treatment` or :class:`~enhance.retina.RetinaMaker` per setting, kept);
beyond ``--max-queued`` waiting jobs a new one gets 503 with ``Retry-After``, and beyond
``--max-disk-gb`` of job files, 503. Job folders go on ``DELETE``, ``--keep-minutes`` after the
job ended, and on shutdown.

API (the page uses it too): ``POST /api/jobs`` (multipart ``files`` and option fields) ->
``{"id": ...}``; ``GET /api/jobs/{id}``; ``GET /api/jobs/{id}/files/{name}``;
``GET /api/jobs/{id}/zip``; ``GET /api/jobs/{id}/report``; ``DELETE /api/jobs/{id}``;
``GET /api/models``; OpenAPI docs at ``/docs``.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
import time
import uuid
import zipfile
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.datastructures import UploadFile

from .errors import EnhanceError, UsageError

if TYPE_CHECKING:
    from .treatment import ModelRequest

log = logging.getLogger(__name__)

__all__ = ["ServeOptions", "JobOptions", "JobStore", "create_app", "serve"]

WEB = Path(__file__).resolve().parent / "web"
FORMATS = ("png", "jpeg", "webp", "tiff")
TYPES = ("auto", "photo", "print", "jpeg", "aliased")
#: the most files one job may carry
MAX_FILES = 100
_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class ServeOptions:
    """How the server runs (``enhance serve``'s flags).

    Attributes:
        host, port: where it listens (loopback by default).
        workers: jobs computed at once, each worker with its own models.
        max_upload_mb: the largest request body, MB.
        max_pixels: the largest input, pixels (the command's guard).
        keep_minutes: a finished job's files are removed this long after it ended.
        max_disk_gb: beyond this much in job folders, new jobs are refused (503).
        max_queued: beyond this many waiting jobs, new ones are refused (503, Retry-After).
        root: the folder job folders go in (None: a new temporary folder, removed on shutdown).
    """

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    max_upload_mb: float = 200.0
    max_pixels: int | None = None
    keep_minutes: float = 60.0
    max_disk_gb: float = 10.0
    max_queued: int = 20
    root: Path | None = None


@dataclass(frozen=True)
class JobOptions:
    """What a job does to each of its files (the page's form, the API's fields).

    Attributes:
        model: a registry name.
        zoom: 1 to 16 (ignored when ``densities`` is given).
        type: "auto" (descreen only what carries a screen), "photo", "print", "jpeg" or "aliased".
        format: output format for a zoom ("png", "jpeg", "webp", "tiff"); for a retina set, its
            web format ("webp" or "jpeg"; "png" and "tiff" make WebP).
        densities: a retina set's densities (``--retina --densities``), or empty for one zoom.
    """

    model: str = "default"
    zoom: float = 2.0
    type: str = "auto"
    format: str = "png"
    densities: tuple[float, ...] = ()

    @staticmethod
    def parse(fields: dict[str, str]) -> "JobOptions":
        """Options from form fields, or a :class:`UsageError` naming the bad one."""
        from .models.registry import list_models
        from .retina import parse_densities

        model = fields.get("model", "default").strip() or "default"
        if model not in {e.name for e in list_models(_NO_USER_MODELS)}:
            raise UsageError(f"unknown model {model!r}")
        try:
            zoom = float(fields.get("zoom", "2") or "2")
        except ValueError:
            raise UsageError(f"zoom must be a number from 1 to 16, not {fields.get('zoom')!r}") from None
        if not 1 <= zoom <= 16:
            raise UsageError(f"zoom must be a number from 1 to 16, not {zoom:g}")
        typ = (fields.get("type", "auto") or "auto").strip()
        if typ not in TYPES:
            raise UsageError(f"type must be one of {', '.join(TYPES)}, not {typ!r}")
        fmt = (fields.get("format", "png") or "png").strip().lower().replace("jpg", "jpeg")
        if fmt not in FORMATS:
            raise UsageError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        text = (fields.get("densities", "") or "").strip()
        densities = parse_densities(text) if text else ()
        options = JobOptions(model, zoom, typ, fmt, densities)
        options.request()  # the type and zoom together (--type=aliased at x1 is refused)
        return options

    def request(self) -> ModelRequest:
        """The models these options ask for (a retina set's: those of its x2 step)."""
        from .treatment import ModelRequest

        return ModelRequest(self.model, 2 if self.densities else self.zoom,
                            None if self.type in ("auto", "photo") else self.type)


#: a folder with no user models: the server offers the shipped ones only
_NO_USER_MODELS = Path(tempfile.gettempdir()) / "enhance-serve-no-user-models"


@dataclass
class JobFile:
    """One upload of a job and what became of it (``state``: queued, running, done, failed)."""

    name: str
    path: Path
    state: str = "queued"
    done: int = 0
    total: int = 0
    notes: list[str] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0
    outputs: dict[str, Path] = field(default_factory=dict)


@dataclass
class Job:
    """A job: its files, options, state (queued, running, done, cancelled) and folder."""

    id: str
    folder: Path
    options: JobOptions
    files: list[JobFile]
    state: str = "queued"
    created: float = field(default_factory=time.time)
    ended: float | None = None
    cancelled: bool = False
    report: Path | None = None

    def public(self) -> dict[str, Any]:
        """The job as the API shows it: no paths, only the names the server made."""
        base = f"/api/jobs/{self.id}"
        return {
            "id": self.id, "state": self.state, "created": self.created, "ended": self.ended,
            "options": {"model": self.options.model, "zoom": self.options.zoom, "type": self.options.type,
                        "format": self.options.format, "densities": list(self.options.densities)},
            "files": [{"name": f.name, "state": f.state, "progress": {"done": f.done, "total": f.total},
                       "notes": f.notes, "error": f.error, "seconds": round(f.seconds, 2),
                       "outputs": [{"name": n, "url": f"{base}/files/{n}", "bytes": p.stat().st_size}
                                   for n, p in f.outputs.items() if p.exists()]} for f in self.files],
            "report": f"{base}/report" if self.report is not None else None,
            "zip": f"{base}/zip" if any(f.outputs for f in self.files) else None,
        }


def safe_name(name: str | None, taken: set[str]) -> str:
    """An upload's name made harmless: its last path component, reduced to letters, digits,
    ``.``, ``-`` and ``_`` (no leading dot), at most 64 characters, unique among ``taken``."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip("._")[:64] or "image"
    stem, dot, ext = base.rpartition(".")
    stem, ext = (stem, "." + ext) if dot and stem else (base, "")
    out, k = stem + ext, 2
    while out.lower() in taken:
        out, k = f"{stem}-{k}{ext}", k + 1
    taken.add(out.lower())
    return out


class _Busy(Exception):
    """The server cannot take a job now (503)."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class JobStore:
    """The jobs, their folders and the worker pool.

    Args:
        options: the server's limits.
    """

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self._own_root = options.root is None
        self.root = Path(tempfile.mkdtemp(prefix="enhance-serve-")) if options.root is None else options.root
        self.root.mkdir(parents=True, exist_ok=True)
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(1, options.workers), thread_name_prefix="enhance-worker")
        self._local = threading.local()
        self._closing = threading.Event()
        self._janitor = threading.Thread(target=self._sweep_loop, name="enhance-janitor", daemon=True)
        self._janitor.start()

    # -- accepting -------------------------------------------------------------------------
    def check_room(self) -> None:
        """Raise :class:`_Busy` when the queue or the disk is full."""
        with self._lock:
            waiting = sum(j.state == "queued" for j in self.jobs.values())
        if waiting >= self.options.max_queued:
            raise _Busy(f"the server has {waiting} jobs waiting (at most {self.options.max_queued}); try again soon", 30)
        used = sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())
        if used > self.options.max_disk_gb * 1e9:
            raise _Busy(f"the server's job files fill {used / 1e9:.1f} GB (at most {self.options.max_disk_gb:g} GB); "
                        "delete finished jobs or try later", 60)

    def new_job(self, options: JobOptions) -> Job:
        """A job folder, not yet queued (its files are added by the caller, then :meth:`submit`)."""
        jid = uuid.uuid4().hex
        folder = self.root / jid
        (folder / "in").mkdir(parents=True)
        (folder / "out").mkdir()
        return Job(jid, folder, options, [])

    def submit(self, job: Job) -> None:
        """Queue ``job`` behind the workers."""
        with self._lock:
            self.jobs[job.id] = job
        self._pool.submit(self._run, job)

    def get(self, jid: str) -> Job | None:
        """The job ``jid``, or None (also for anything that is not an id the server made)."""
        if not _ID.match(jid):
            return None
        with self._lock:
            return self.jobs.get(jid)

    def delete(self, jid: str) -> bool:
        """Cancel and remove job ``jid`` (its folder goes now, or when its running file ends)."""
        with self._lock:
            job = self.jobs.pop(jid, None) if _ID.match(jid) else None
        if job is None:
            return False
        job.cancelled = True
        if job.state != "running":
            shutil.rmtree(job.folder, ignore_errors=True)
        return True

    # -- working ---------------------------------------------------------------------------
    def _workers_models(self, o: JobOptions) -> Any:
        """This worker's treatment (or retina maker) for ``o``, built on first use and kept
        (the three most recent settings)."""
        from .retina import RetinaMaker, RetinaOptions
        from .treatment import Treatment

        cache: OrderedDict[tuple[Any, ...], Any] = getattr(self._local, "cache", None) or OrderedDict()
        self._local.cache = cache
        key = (o.model, o.zoom, o.type, o.densities, o.format)
        if key not in cache:
            if o.densities:
                fmt = "jpeg" if o.format == "jpeg" else "webp"
                cache[key] = RetinaMaker(o.request(), RetinaOptions(o.densities, formats=(fmt,)),
                                         auto=o.type == "auto", max_pixels=self.options.max_pixels)
            else:
                cache[key] = Treatment(o.request(), auto=o.type == "auto")
            while len(cache) > 3:
                cache.popitem(last=False)
        cache.move_to_end(key)
        return cache[key]

    def _run(self, job: Job) -> None:
        if job.cancelled or self._closing.is_set():
            job.state = "cancelled"
            return
        job.state = "running"
        entries: list[Any] = []
        try:
            try:
                models = self._workers_models(job.options)
            except EnhanceError as exc:  # a model that cannot be loaded: every file says so
                for f in job.files:
                    if f.state == "queued":
                        f.state, f.error = "failed", f"{f.name}: {exc}"
                return
            for f in job.files:
                if job.cancelled or self._closing.is_set():
                    break
                if f.state == "failed":
                    from .report import ReportEntry

                    entries.append(ReportEntry(f.name, error=f.error))
                    continue
                entries += self._one(job, f, models)
                self._write_report(job, entries)
        except Exception:  # a bug must not take the server down; the job says it failed
            log.exception("job %s failed", job.id)
            for f in job.files:
                if f.state in ("queued", "running"):
                    f.state, f.error = "failed", f"{f.name}: unexpected error in the server"
        finally:
            job.ended = time.time()
            job.state = "cancelled" if job.cancelled else "done"
            if job.cancelled:
                shutil.rmtree(job.folder, ignore_errors=True)

    def _clean(self, job: Job, text: str, f: JobFile | None = None) -> str:
        """A message with the job's folder taken out: the user sees names, not server paths."""
        if f is not None:
            text = text.replace(str(f.path), f.name)
        return text.replace(str(job.folder / "in") + "/", "").replace(str(job.folder / "out") + "/", "").replace(
            str(job.folder), "")

    def _one(self, job: Job, f: JobFile, models: Any) -> list[Any]:
        from .batch import BatchOptions, run_batch
        from .report import ReportEntry, entry_for_output
        from .retina import RetinaMaker, report_entries

        f.state = "running"
        out = job.folder / "out"
        t0 = time.perf_counter()
        if isinstance(models, RetinaMaker):
            s = models.make(f.path, out)
            f.seconds = time.perf_counter() - t0
            f.notes = [self._clean(job, n) for n in s.notes]
            if s.error:
                f.state, f.error = "failed", self._clean(job, s.error, f)
                return [ReportEntry(f.name, error=f.error)]
            f.outputs = {a.file: out / a.file for a in s.assets}
            f.state = "done"
            entries = report_entries([s], out)
            for e in entries:
                e.source, e.notes = f.name, [self._clean(job, n, f) for n in e.notes]
            return entries

        def progress(ev: Any) -> None:
            if ev.kind == "tile":
                f.done, f.total = ev.done, ev.total
            elif ev.kind == "read":  # what was found (screen, JPEG quality), before the long part
                f.notes = [self._clean(job, n, f) for n in ev.notes]

        opts = BatchOptions(output_dir=out, format=job.options.format,
                            **({"max_pixels": self.options.max_pixels} if self.options.max_pixels else {}))
        (r,) = run_batch([f.path], models, opts, progress)
        f.seconds = time.perf_counter() - t0
        f.notes = [self._clean(job, n) for n in r.notes]
        if r.status != "done" or r.output is None:
            f.state, f.error = "failed", self._clean(job, r.message, f)
            return [ReportEntry(f.name, error=f.error)]
        f.outputs = {r.output.name: r.output}
        f.state = "done"
        try:
            entry = entry_for_output(f.path, r.output, f"x{models.zoom:g}, {models.model.name}", f.notes, f.seconds,
                                     regions=r.regions)
            entry.source = f.name  # the upload's name, not the server's path
            return [entry]
        except Exception:  # the result stands without its picture in the report
            log.debug("no report picture for %s", f.name, exc_info=True)
            return [ReportEntry(f.name, title="done", notes=f.notes)]

    def _write_report(self, job: Job, entries: list[Any]) -> None:
        from .report import write_report

        path = job.folder / "report.html"
        try:
            write_report(entries, path, title="Enhance: results")
            job.report = path
        except Exception:
            log.debug("report of job %s not written", job.id, exc_info=True)

    # -- leaving ---------------------------------------------------------------------------
    def sweep(self, now: float | None = None) -> int:
        """Remove jobs that ended more than ``keep_minutes`` ago; returns how many went."""
        now = time.time() if now is None else now
        limit = self.options.keep_minutes * 60
        with self._lock:
            old = [j for j in self.jobs.values() if j.ended is not None and now - j.ended > limit]
        return sum(self.delete(j.id) for j in old)

    def _sweep_loop(self) -> None:
        while not self._closing.wait(30):
            self.sweep()

    def close(self) -> None:
        """Shut down: waiting jobs are cancelled, the running file finishes, the folders go."""
        self._closing.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            jobs = list(self.jobs.values())
            self.jobs.clear()
        for j in jobs:
            shutil.rmtree(j.folder, ignore_errors=True)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def zip_of(self, job: Job) -> Path:
        """Every output of ``job`` in one zip (made anew from what exists now)."""
        path = job.folder / f"enhance-{job.id[:8]}.zip"
        tmp = path.with_suffix(".zip.part")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
            for f in job.files:
                for name, p in f.outputs.items():
                    if p.exists():
                        z.write(p, name)
        tmp.replace(path)
        return path


def _extension_of(path: Path) -> str:
    """The extension of the format Pillow reads ``path`` as (its header only), or ".bin": the
    stored upload is then named by what it holds, whatever its name or claimed type said."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                fmt = im.format
    except Exception:  # not an image Pillow knows (or a bomb): open_image gives the one-line error
        return ".bin"
    exts = [e for e, f in Image.registered_extensions().items() if f == fmt]
    for usual in ({"JPEG": ".jpg", "TIFF": ".tif"}.get(fmt or ""), "." + (fmt or "").lower()):
        if usual in exts:
            return usual
    return min(exts, key=len) if exts else ".bin"


class _LimitBody:
    """ASGI middleware: a request body over ``limit`` bytes is refused with 413, before it is
    read when it states its length, else as soon as it passes the limit (the handler then
    sees a disconnect and the request's scope says why)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _json_response(send, 413, {"detail": too_large_message(self.limit)})
            return
        seen = 0

        async def limited() -> dict[str, Any]:
            nonlocal seen
            if scope.get(_TOO_LARGE):
                return {"type": "http.disconnect"}
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    scope[_TOO_LARGE] = self.limit
                    return {"type": "http.disconnect"}
            return msg

        await self.app(scope, limited, send)


_TOO_LARGE = "enhance.too_large"


def too_large_message(limit: int) -> str:
    """The 413's message."""
    return f"upload too large: at most {limit / 1e6:g} MB in one request (--max-upload-mb)"


async def _json_response(send: Any, status: int, body: dict[str, Any]) -> None:
    import json

    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self' 'unsafe-inline'; connect-src 'self'; "
                               "frame-src 'self'",
}


def create_app(options: ServeOptions = ServeOptions(), store: JobStore | None = None) -> Any:
    """The FastAPI application (its :class:`JobStore` at ``app.state.store``)."""
    store = store or JobStore(options)
    limit = int(options.max_upload_mb * 1e6)

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        yield
        store.close()

    app = FastAPI(title="Enhance", description="Faithful enlargements of scans and small images: the jobs API "
                  "the page at / uses.", version=_version(), lifespan=lifespan)
    app.state.store = store
    app.add_middleware(_LimitBody, limit=limit)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        for k, v in _SECURITY_HEADERS.items():
            if k == "Content-Security-Policy" and request.url.path in ("/docs", "/redoc"):
                continue  # the docs page loads its own script
            response.headers.setdefault(k, v)
        return response

    @app.exception_handler(_Busy)
    async def busy(request: Request, exc: _Busy) -> Any:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return JSONResponse({"detail": str(exc)}, status_code=503, headers=headers)

    @app.exception_handler(UsageError)
    async def usage(request: Request, exc: UsageError) -> Any:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> Any:
        return FileResponse(WEB / "index.html", media_type="text/html")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Any:
        files = {"app.js": "text/javascript", "style.css": "text/css"}
        if name not in files:
            raise HTTPException(404, "no such file")
        return FileResponse(WEB / name, media_type=files[name])

    @app.get("/api/models")
    def models() -> Any:
        """The models offered, with their zooms and what they are for."""
        from .models.registry import list_models

        return [{"name": e.name, "type": e.type, "zooms": sorted(e.scales), "description": e.description}
                for e in list_models(_NO_USER_MODELS)]

    @app.post("/api/jobs", status_code=202)
    async def create_job(request: Request) -> Any:
        """A job: ``files`` (one or more images) and the options as form fields (``model``,
        ``zoom``, ``type``, ``format``, ``densities``). Returns ``{"id": ...}``."""
        store.check_room()
        try:
            form = await request.form(max_files=MAX_FILES, max_fields=20)
        except Exception as exc:
            if request.scope.get(_TOO_LARGE):
                raise HTTPException(413, too_large_message(request.scope[_TOO_LARGE])) from None
            raise HTTPException(400, f"not a multipart form with files ({type(exc).__name__})") from None
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        uploads = [v for k, v in form.multi_items() if k == "files" and isinstance(v, UploadFile)]
        if not uploads:
            raise HTTPException(422, "no files: send one or more images as the form field 'files'")
        opts = JobOptions.parse(fields)
        job = store.new_job(opts)
        taken: set[str] = set()
        stems: set[str] = set()
        try:
            for up in uploads:
                name = safe_name(up.filename, taken)
                stem = safe_name(Path(name).stem, stems)  # stored and output names: unique stems
                raw = job.folder / "in" / (stem + ".upload")
                with open(raw, "wb") as out:
                    while chunk := await up.read(1 << 20):
                        out.write(chunk)
                path = raw.with_suffix(_extension_of(raw))
                raw.rename(path)
                f = JobFile(name, path)
                if path.stat().st_size == 0:
                    f.state, f.error = "failed", f"{name}: empty file"
                job.files.append(f)
        except BaseException:
            shutil.rmtree(job.folder, ignore_errors=True)
            raise
        finally:
            await form.close()
        store.submit(job)
        return {"id": job.id, "url": f"/api/jobs/{job.id}"}

    def _job(jid: str) -> Job:
        job = store.get(jid)
        if job is None:
            raise HTTPException(404, f"no job {jid[:40]!r} (finished jobs are kept {options.keep_minutes:g} minutes)")
        return job

    @app.get("/api/jobs/{jid}")
    def job_state(jid: str) -> Any:
        """State, per-file progress (tiles done of total), notes, errors and outputs."""
        return _job(jid).public()

    @app.get("/api/jobs/{jid}/files/{name}")
    def job_file(jid: str, name: str) -> Any:
        """One output, by the name the job lists."""
        job = _job(jid)
        for f in job.files:
            if name in f.outputs and f.outputs[name].exists():
                return FileResponse(f.outputs[name], filename=name)
        raise HTTPException(404, f"job {jid} has no output {name[:80]!r}")

    @app.get("/api/jobs/{jid}/zip")
    def job_zip(jid: str) -> Any:
        """Every output of the job so far, as one zip."""
        job = _job(jid)
        if not any(f.outputs for f in job.files):
            raise HTTPException(404, "no outputs yet")
        return FileResponse(store.zip_of(job), filename=f"enhance-{job.id[:8]}.zip", media_type="application/zip")

    @app.get("/api/jobs/{jid}/report", response_class=HTMLResponse)
    def job_report(jid: str) -> Any:
        """The job's HTML report (before/after slider at 100 %, notes), as far as it has got."""
        job = _job(jid)
        if job.report is None or not job.report.exists():
            raise HTTPException(404, "no report yet")
        return FileResponse(job.report, media_type="text/html")

    @app.delete("/api/jobs/{jid}")
    def job_delete(jid: str) -> Any:
        """Cancel the job and remove its files."""
        if not store.delete(jid):
            raise HTTPException(404, f"no job {jid[:40]!r}")
        return {"deleted": jid}

    return app


def _version() -> str:
    from .version import __version__

    return __version__


def serve(options: ServeOptions, ready: Any = None) -> None:
    """Run the server until Ctrl-C (or SIGTERM): waiting jobs are cancelled, the running file
    finishes, every job folder is removed."""
    import uvicorn

    config = uvicorn.Config(create_app(options), host=options.host, port=options.port, log_level="warning", lifespan="on")
    uvicorn.Server(config).run()
