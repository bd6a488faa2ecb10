"""File helpers shared by the model writers."""

from __future__ import annotations

import os


def publish(tmp: str, path: str) -> None:
    """Rename the finished temporary file ``tmp`` onto ``path``, first giving it the permissions
    of a normally created file (safetensors creates its files owner-only, 0600, which would
    hide a trained model from the rest of a team)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, path)
