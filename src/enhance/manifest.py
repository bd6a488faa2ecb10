"""A run's manifest (``--manifest run.jsonl``): one JSON line per file as it finishes.

Each line says what happened to one input: its output, the settings it was made with, the
treatment's notes (screen found, JPEG quality, repair), seconds, bytes and its status
(``done``, ``skipped`` or ``failed`` with the one-line error). A line is appended with one
``write`` on a file opened for appending and synced, so a run killed at any moment leaves whole
lines (and at worst a torn last one, which reading skips). A rerun with ``--skip-existing``
reads it: a file whose output was made with other settings is made again.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["Manifest"]


class Manifest:
    """The manifest at ``path`` (created on the first line).

    Args:
        path: the JSONL file.
        settings: what every line of this run records as its settings (model, zoom, type,
            repair, auto, format, quality, ensemble, engine ...): JSON-serialisable values.
    """

    def __init__(self, path: Path, settings: dict[str, Any]) -> None:
        self.path = Path(path)
        self.settings = dict(settings)

    def append(self, source: Path, output: Path | None, status: str, message: str = "", notes: list[str] | None = None,
               seconds: float = 0.0) -> dict[str, Any]:
        """Append one file's line; returns the record written."""
        size = None
        if status == "done" and output is not None:
            try:
                size = output.stat().st_size
            except OSError:
                size = None
        rec = {"input": str(source), "output": str(output) if output is not None else None, "status": status,
               "message": message, "notes": list(notes or []), "seconds": round(seconds, 3), "bytes": size,
               "settings": self.settings, "time": round(time.time(), 3)}
        line = (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return rec

    def read(self) -> dict[str, dict[str, Any]]:
        """The last record of each input (by its real path), from the file as it is now; a
        line that does not parse (torn by a kill) is left out."""
        out: dict[str, dict[str, Any]] = {}
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return out
        bad = 0
        for line in text.splitlines():
            try:
                rec = json.loads(line)
                out[os.path.realpath(rec["input"])] = rec
            except (ValueError, KeyError, TypeError):
                bad += bool(line.strip())
        if bad:
            log.info("%s: %d unreadable line%s left out (a run was killed while writing it)", self.path, bad,
                     "" if bad == 1 else "s")
        return out
