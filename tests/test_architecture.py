"""The layer table of docs/architecture.md, enforced on every import of the package.

The table is read from the page itself, so that the picture a newcomer reads and the rule the
code follows cannot drift apart. Each module of ``sklearn_fairloss`` may import:

- modules of its own package (``losses/_focal.py`` from ``losses/_base.py``), and top-level
  modules of its own row of the table (``_classifier.py`` from ``_prepare.py``);
- the public names (the ``__init__``) of packages of a lower rank;
- the shared private top-level modules (``_groups.py``, ``_validation.py``, ...) of a lower rank.

A private module of another package (``from ..metrics._validation import _x``) is never
imported. Imports inside functions count too: a lazy import is still a dependency. Ranks 0 to 2
are torch-free; ranks 3 to 5 may use ``skorch.callbacks`` but not the rest of skorch.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sklearn_fairloss"
DOC = ROOT / "docs" / "architecture.md"


def _layer_table():
    """``{module key: rank}`` from the rows ``| rank | layer | modules | ... |`` of the doc."""
    ranks = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isdigit():
            for key in re.findall(r"`([\w/.]+)`", cells[2]):
                ranks[key.rstrip("/")] = int(cells[0])
    return ranks


RANKS = _layer_table()


def _key(module):
    """The table key of a dotted module name: its subpackage, or the top-level file."""
    parts = module.split(".")[1:]
    if not parts:
        return "__init__.py"
    if (PACKAGE / parts[0]).is_dir():
        return parts[0]
    return parts[0] + ".py"


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(relative.parts)
        is_package = path.name == "__init__.py"
        if is_package:
            name = name.removesuffix(".__init__")
        yield name, path, is_package


def _imports(name, path, is_package):
    """(imported module, imported names) for every import statement of the file."""
    tree = ast.parse(path.read_text())
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            names = [alias.name for alias in node.names]
            if node.module is None:  # from . import x: the names are modules
                for alias in names:
                    yield f"{target}.{alias}", []
            else:
                yield target, names


def _violations():
    found = []
    for name, path, is_package in _modules():
        source_key = _key(name)
        if source_key not in RANKS:
            found.append(f"{name}: not in the layer table of docs/architecture.md")
            continue
        rank = RANKS[source_key]
        for target, _names in _imports(name, path, is_package):
            top = target.split(".")[0]
            if top in ("torch", "skorch") and rank <= 2:
                found.append(f"{name} (rank {rank}, torch-free) imports {target}")
            if top == "skorch" and 3 <= rank <= 5 and not target.startswith("skorch.callbacks"):
                found.append(f"{name} (rank {rank}) imports {target}; only skorch.callbacks "
                             "is allowed below the engine")
            if top != "sklearn_fairloss" or _key(target) == source_key:
                continue
            target_key = _key(target)
            if target_key not in RANKS:
                found.append(f"{name} imports {target}, which is not in the layer table")
                continue
            same_row_files = (RANKS[target_key] == rank and source_key.endswith(".py")
                              and target_key.endswith(".py"))
            if RANKS[target_key] >= rank and not same_row_files:
                found.append(f"{name} (rank {rank}) imports {target} (rank "
                             f"{RANKS[target_key]}): dependencies run to lower ranks only")
            inner = target.split(".")[2:]
            if (PACKAGE / target_key).is_dir() and any(p.startswith("_") for p in inner):
                found.append(f"{name} imports the private module {target} of another package; "
                             "import its public names")
    return found


def test_the_layer_table_is_read_from_the_docs():
    assert RANKS["metrics"] == 1
    assert RANKS["_classifier.py"] > RANKS["_net.py"] > RANKS["losses"] > RANKS["postprocessing"]
    assert "postprocessing" in RANKS and "_groups.py" in RANKS


def test_every_import_follows_the_layer_table():
    violations = _violations()
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("source, expected", [
    ("from ..metrics._validation import _encode_groups", "private module"),
    ("from .._net import FairLossNet", "dependencies run to lower ranks only"),
    ("import torch", "torch-free"),
])
def test_the_check_catches_a_bad_import(tmp_path, monkeypatch, source, expected):
    # a module of the plotting layer (rank 2) with one forbidden import
    bad = PACKAGE / "plotting" / "_layer_probe.py"
    monkeypatch.setattr(Path, "read_text", _reader(bad, source))
    original = Path.rglob

    def rglob(self, pattern):
        yield from original(self, pattern)
        if self == PACKAGE:
            yield bad

    monkeypatch.setattr(Path, "rglob", rglob)
    assert any(expected in v and "_layer_probe" in v for v in _violations())


def _reader(bad, source):
    original = Path.read_text

    def read_text(self, *args, **kwargs):
        if self == bad:
            return source + "\n"
        return original(self, *args, **kwargs)

    return read_text
