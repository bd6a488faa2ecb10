"""Enhance: faithful 2x/3x/4x enlargements and x1 repair of scans and small images.

The public API::

    import enhance
    pixels, meta = enhance.open_image("scan.tif")        # (H, W, C) uint8/uint16 + metadata
    big = enhance.upscale(pil_image, zoom=2, model="default")
    enhance.save_image("scan_ne2x.png", big_pixels, meta.scaled(2))

    treatment = enhance.Treatment(enhance.ModelRequest("default", zoom=2))   # once per process
    model, notes = treatment.for_file(pixels, meta)     # which models run on this file, and why

Nothing in the library prints; progress goes to callbacks, messages to :mod:`logging`.
Importing this package does not import torch (only neural models do, when loaded).
"""

from __future__ import annotations

from .version import __version__

from .batch import BatchOptions, FileResult, enhance_file, expand_inputs, output_path, run_batch
from .errors import EnhanceError, InputError, ModelError, OutputError
from .image import ImageMeta, open_image, save_image
from .models.registry import list_models
from .treatment import ModelRequest, Treatment, load_model, upscale
from .upscaling import upscale_pixels

__all__ = [
    "__version__",
    "upscale",
    "upscale_pixels",
    "open_image",
    "save_image",
    "ImageMeta",
    "load_model",
    "list_models",
    "ModelRequest",
    "Treatment",
    "run_batch",
    "enhance_file",
    "expand_inputs",
    "output_path",
    "BatchOptions",
    "FileResult",
    "EnhanceError",
    "InputError",
    "OutputError",
    "ModelError",
]
