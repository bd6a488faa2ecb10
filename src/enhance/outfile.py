"""An output file's life: claimed, written under a temporary name, synced, renamed into place.

Every output is written to ``.{name}.tmp{pid}`` beside its final name and renamed only when
complete (and flushed to disk, the folder too), so a reader, a crash, a kill or a power cut
sees either the whole file or none. The temporary name says which process writes it: a run
claims a file by creating it before computing, so a second run over the same folder with
``--skip-existing`` leaves the file to the first; temporaries of processes that no longer
exist are stale and removed by the next run.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import struct
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import OutputError

log = logging.getLogger(__name__)

__all__ = ["OUTPUT_STEM", "atomic_output", "claim", "release", "writer_of", "remove_stale_temporaries", "is_complete",
           "dimensions", "describe_os_error", "TargetClaims"]

_TEMP = re.compile(r"^\.(?P<name>.+)\.tmp(?P<pid>\d+)$")


def temp_path(target: Path, pid: int | None = None) -> Path:
    """The temporary name of ``target`` while process ``pid`` (default: this one) writes it."""
    return target.with_name(f".{target.name}.tmp{os.getpid() if pid is None else pid}")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def claim(target: Path) -> bool:
    """Create ``target``'s temporary name for this process before computing it.

    Returns:
        True when this call created it (release it with :func:`release` if the file fails
        before :func:`atomic_output` takes it over); False when it was there already.
    """
    try:
        os.close(os.open(temp_path(target), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return False
    except OSError:  # an unwritable folder is reported by the write itself
        return False
    return True


def release(target: Path) -> None:
    """Remove this process's claim on ``target`` if it is still there (the file failed)."""
    try:
        temp_path(target).unlink()
    except OSError:
        pass


def writer_of(target: Path) -> int | None:
    """The process id of another live process writing ``target`` now, or None."""
    try:
        names = os.listdir(target.parent if str(target.parent) else ".")
    except OSError:
        return None
    for n in names:
        m = _TEMP.match(n)
        if m and m["name"] == target.name:
            pid = int(m["pid"])
            if pid != os.getpid() and _alive(pid):
                return pid
    return None


#: an output's stem: ``{stem}_ne{zoom}x`` (zoom 2, 1.5, ...), as :func:`enhance.batch.output_path` names it
OUTPUT_STEM = re.compile(r"_ne\d+(\.\d+)?x$")


def remove_stale_temporaries(folder: Path, keep: set[str] = frozenset(),  # type: ignore[assignment]
                             targets: set[str] = frozenset()) -> list[Path]:  # type: ignore[assignment]
    """Remove the temporaries in ``folder`` left by processes that no longer exist (a kill -9,
    a power cut). Only Enhance's own are touched: the temporary of a file named as its outputs
    are (``*_ne2x.png``) or of one of ``targets`` (this batch's output names); ``keep`` holds
    real paths never to touch (the batch's inputs).

    Returns:
        The files removed.
    """
    removed: list[Path] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for n in names:
        m = _TEMP.match(n)
        if not m or _alive(int(m["pid"])):
            continue
        base = m["name"][:-4] if m["name"].endswith(".raw") else m["name"]
        if not (OUTPUT_STEM.search(Path(base).stem) or base in targets):
            continue
        p = folder / n
        if os.path.realpath(p) in keep or not p.is_file():
            continue
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def _fsync(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        if not directory or exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


@contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yield the temporary path of ``target``; when the block succeeds, flush it to disk and
    rename it into place (and flush the folder, so the rename survives a power cut).

    On any failure the temporary file is removed and :class:`OutputError` names ``target``
    (Ctrl-C, SIGTERM and exit pass through after the clean-up).
    """
    tmp = temp_path(target)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync(target.parent if str(target.parent) else Path("."), directory=True)
    except BaseException as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        if isinstance(exc, (KeyboardInterrupt, SystemExit, OutputError)):
            raise
        raise OutputError(f"{target}: cannot write ({describe_os_error(exc)})") from None


def describe_os_error(exc: BaseException) -> str:
    """A few words for a write failure: "disk full", "permission denied" or the error's first line."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "disk full"
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def is_complete(path: Path, sizes: tuple[tuple[int, int], ...] = ()) -> bool:
    """Whether the output at ``path`` looks whole, cheaply (its header and its end, not its pixels).

    PNG must end with its IEND chunk, JPEG with its end-of-image marker, WebP must be as long
    as its RIFF header says, a TIFF must hold every strip or tile its first page points to; and
    its width and height must be one of ``sizes`` when any are given.
    """
    try:
        size = path.stat().st_size
        if size < 16:
            return False
        with open(path, "rb") as fh:
            head = fh.read(16)
            fh.seek(-12, os.SEEK_END)
            tail = fh.read(12)
        if head.startswith(b"\x89PNG"):
            ok = tail[4:8] == b"IEND"
        elif head.startswith(b"\xff\xd8"):
            ok = tail.endswith(b"\xff\xd9")
        elif head.startswith(b"RIFF") and head[8:12] == b"WEBP":
            ok = struct.unpack("<I", head[4:8])[0] + 8 == size
        elif head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
            ok = _tiff_complete(path, size)
        else:
            ok = False
        if not ok or not sizes:
            return ok
        return dimensions(path) in sizes
    except Exception:  # unreadable in any way: not a finished output
        return False


def dimensions(path: Path) -> tuple[int, int]:
    """Width and height from the file's header (tifffile for TIFF, Pillow's lazy open otherwise).

    Raises:
        Exception: whatever the reader raises for a file it cannot read.
    """
    import warnings

    from PIL import Image

    if path.suffix.lower() in (".tif", ".tiff"):
        import tifffile

        with tifffile.TiffFile(path) as tf:
            shape = tf.pages[0].shape  # type: ignore[union-attr]
            return int(shape[1]), int(shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        old, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # our own output: its size is known
        try:
            with Image.open(path) as im:
                return im.size
        finally:
            Image.MAX_IMAGE_PIXELS = old


def _tiff_complete(path: Path, size: int) -> bool:
    import tifffile

    with tifffile.TiffFile(path) as tf:
        page = tf.pages[0]
        ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts)]  # type: ignore[union-attr]
        return bool(ends) and max(ends) <= size


class TargetClaims:
    """One run's outputs, planned before any is written: each target path belongs to one source,
    and none is one of the run's inputs (the batch's plain outputs and ``--retina``'s sets
    follow the same rule).

    Args:
        inputs: every input of the run.
    """

    def __init__(self, inputs: list[Path]) -> None:
        self._inputs = {os.path.realpath(f) for f in inputs}
        self._owner: dict[str, Path] = {}

    def clash(self, targets: list[Path]) -> tuple[Path, Path | None] | None:
        """The first of ``targets`` that cannot be written, with the earlier source that claimed
        it (None: it is one of the inputs); None when all are free."""
        for t in targets:
            key = os.path.realpath(t)
            if key in self._inputs:
                return t, None
            if key in self._owner:
                return t, self._owner[key]
        return None

    def claim(self, source: Path, targets: list[Path]) -> None:
        """``targets`` are ``source``'s from now on."""
        self._owner.update((os.path.realpath(t), source) for t in targets)

    @staticmethod
    def hint(source: Path, other: Path, gathered: bool) -> str:
        """What resolves two inputs that map to one output: files of one stem in one folder need a
        new name; files from different folders ``gathered`` into one output folder keep apart
        under ``--keep-tree``."""
        if not gathered or os.path.realpath(source.parent) == os.path.realpath(other.parent):
            return "rename one of them"
        return "rename one of them, or add --keep-tree to mirror their folders under the output folder"
