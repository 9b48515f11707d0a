"""The scripts in examples/ (the documentation's gallery) run and are well formed.

Every example is executed when the documentation is built (``make docs``, which CI runs); here
one example runs as a smoke test, and every example is checked for the shape the gallery needs:
a reST title, a figure, only public imports of the package.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))
SMOKE = ["plot_fair_credit_german.py"]
# with pytest -n 2 on 2 cores, a child process with torch's default 2 threads oversubscribes
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def test_gallery_has_at_least_eight_examples():
    assert len(EXAMPLES) >= 8, [p.name for p in EXAMPLES]
    assert (EXAMPLES_DIR / "GALLERY_HEADER.rst").exists()


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_is_a_gallery_page(script):
    tree = ast.parse(script.read_text())
    doc = ast.get_docstring(tree, clean=False)
    assert doc, "an example starts with a docstring: its reST title and introduction"
    lines = doc.strip("\n").splitlines()
    assert len(lines) > 2 and set(lines[1]) == {"="} and len(lines[1]) >= len(lines[0]), (
        "the docstring's first line is a title underlined with '='")
    source = script.read_text()
    assert "plt.show()" in source, "every example draws a figure"
    assert "baseline" in source.lower(), "every example compares with a baseline"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            assert not any(part.startswith("_") for part in parts), (
                f"{node.module}: examples use the public API only")


@pytest.mark.parametrize("name", SMOKE)
def test_example_runs(name):
    result = subprocess.run([sys.executable, str(EXAMPLES_DIR / name)], capture_output=True,
                            text=True, env=ONE_THREAD, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip()
