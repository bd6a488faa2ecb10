"""What a user installs: the package alone (no lab code, weights included), and a checkout that
never shadows it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_the_library_and_its_weights_and_no_lab_code(tmp_path: Path) -> None:
    import shutil

    src = tmp_path / "checkout"  # built from a copy: setuptools leaves build/ beside what it builds
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for lab in ("recipes", "benchmarks"):  # beside the package, as in a checkout: they must stay out of the wheel
        shutil.copytree(ROOT / lab, src / lab, ignore=shutil.ignore_patterns("__pycache__", "results", "*.png"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
                        str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("enhance-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"enhance", next(t for t in tops if t.endswith(".dist-info"))}, tops
    assert "enhance/treatment.py" in names and "enhance/models/zoo.json" in names
    assert any(n.startswith("enhance/models/weights/") and n.endswith(".safetensors") for n in names)
    assert not [n for n in names if "corpus" in n or "recipes" in n or "benchmarks" in n]
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    core = [line for line in meta.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert not [line for line in core if "torch" in line], core  # torch is an extra, not a core dependency


def test_a_checkout_named_enhance_does_not_shadow_the_package(tmp_path: Path) -> None:
    """From the folder that holds a clone called ``enhance``, ``import enhance`` is the package."""
    (tmp_path / "enhance").symlink_to(ROOT)
    r = subprocess.run([sys.executable, "-c", "import enhance; print(enhance.upscale.__name__)"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "upscale", r.stderr
