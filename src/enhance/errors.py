"""The exceptions Enhance raises for problems a user can fix (bad input, bad options)."""

from __future__ import annotations

__all__ = ["EnhanceError", "InputError", "OutputError", "ModelError", "UsageError"]


class EnhanceError(Exception):
    """Base class: a problem with a user's file or option, reported as one line, no traceback."""


class InputError(EnhanceError):
    """An input file cannot be read: missing, empty, truncated, not an image, too large."""


class OutputError(EnhanceError):
    """An output cannot be written: unwritable folder, full disk, name collision, bad format."""


class ModelError(EnhanceError):
    """A model is unknown, lacks the asked zoom, or its weights fail their checksum."""


class UsageError(EnhanceError, ValueError):
    """A library call or option with a value it cannot take (an unknown device or type, a tile
    of 0, pixels that do not match their layout); the message names the argument."""
