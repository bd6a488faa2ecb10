"""The version, in one place (the package, its outputs' Software mark and the command read it)."""

__version__ = "0.1.0"
