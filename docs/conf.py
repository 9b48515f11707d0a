"""Sphinx configuration for the sklearn-fairloss documentation site.

Built offline by ``make docs`` (warnings are errors). The API reference pages in ``api/`` are
generated here, at configuration time, from the ``__all__`` of the package and of every
subpackage (see ``_apigen.py``), so a public name added to the code appears on the site without
editing the docs. Markdown pages in this folder are read by myst-parser; any top-level page that
no section lists yet is added to the user guide's "More topics" (see ``_add_unlisted_pages``).
"""

import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

os.environ.setdefault("MPLBACKEND", "Agg")
# the gallery runs on the build machine's cores; torch's threads would oversubscribe them
os.environ.setdefault("OMP_NUM_THREADS", "1")

import _apigen  # noqa: E402

import sklearn_fairloss  # noqa: E402

project = "sklearn-fairloss"
author = "sklearn-fairloss developers"
copyright = "sklearn-fairloss developers"  # noqa: A001
release = sklearn_fairloss.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

root_doc = "index"
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints",
                    "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip",
                    "auto_examples/*.json", "auto_examples/*.md5", "README.md"]

# --- MyST: the Markdown pages of docs/ -----------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 4
suppress_warnings = ["myst.header"]  # pages written for GitHub start some sections at ###

# --- API reference --------------------------------------------------------------------------
API_PAGES = _apigen.write_api_pages(HERE / "api")
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
add_module_names = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# Every reference to the package's own objects must resolve. No intersphinx inventory can be
# downloaded on the build machines (offline), so references to other libraries' objects are
# left as plain text instead of failing the build.
nitpicky = True
_EXTERNAL = ("(sklearn|skorch|torch|fairlearn|imblearn|numpy|np|pandas|pd|scipy|matplotlib"
             "|collections|typing|abc|enum|builtins)")
_PLAIN = ("(array-like|array_like|ndarray|DataFrame|Series|dict|list|tuple|int|float|str|bool"
          "|callable|object|None|optional|Axes|Figure|Tensor|Module|Generator|RandomState)")
nitpick_ignore_regex = [
    ("py:.*", _EXTERNAL + r"(\..*)?"),
    # private modules and classes are not part of the reference
    ("py:.*", r"sklearn_fairloss(\.\w+)*\._\w+.*"),
    ("py:.*", r"_\w+(\..*)?"),
    ("py:.*", _PLAIN),
]

# --- HTML -----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-fairloss {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "api/index": []}

# --- gallery --------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "plot_gallery": "True",
    "download_all_examples": False,
    "remove_config_comments": True,
    "reset_modules": ("matplotlib",),
    "min_reported_time": 0,
    "show_memory": False,
    "line_numbers": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
}

# --- pages no section lists yet ---------------------------------------------------------------
# Other pages may be added to docs/ at any time; a page that no section index lists is appended
# to the benchmark reports (a name with "benchmark" in it) or to the user guide's "More topics",
# so that a new page never breaks the build with "document isn't included in any toctree".
SECTION_INDEXES = ["index.md", "user_guide/index.md", "reports/index.md", "development/index.md"]


def _listed_pages():
    listed = set()
    for name in SECTION_INDEXES:
        path = HERE / name
        if path.exists():
            listed |= set(re.findall(r"^/?([\w\-]+)\s*$", path.read_text(), flags=re.M))
    return listed


def unlisted_pages():
    """Top-level Markdown pages of docs/ that no section index lists, by section."""
    listed = _listed_pages()
    pages = sorted(p.stem for p in HERE.glob("*.md")
                   if p.stem not in listed and p.stem not in {"index", "README"})
    reports = [page for page in pages if "benchmark" in page]
    return {"reports/index": reports,
            "user_guide/index": [page for page in pages if page not in reports]}


def _add_unlisted_pages(app, docname, source):
    pages = unlisted_pages().get(docname)
    if pages:
        entries = "\n".join(f"/{page}" for page in pages)
        heading = "More reports" if docname == "reports/index" else "More topics"
        source[0] += (f"\n\n## {heading}\n\n```{{toctree}}\n:maxdepth: 1\n\n" + entries
                      + "\n```\n")


def _always_reread_indexes(app, env, added, changed, removed):
    # a page added or removed since the last build changes what these two indexes list
    return ["reports/index", "user_guide/index"]


# --- the package's own objects ------------------------------------------------------------
# A member inherited from scikit-learn, torch or skorch is theirs to document.
def _skip_foreign_member(app, what, name, obj, skip, options):
    if what != "class" or skip:
        return None
    owner = getattr(obj, "fget", obj)
    module = getattr(owner, "__module__", None) or ""
    if module and not module.startswith("sklearn_fairloss"):
        return True
    return None


# A re-exported name (``calibration.TemperatureScaling``) is documented in its home subpackage
# (``postprocessing.TemperatureScaling``): references through the other path go there.
_HOMES = {f"{module}.{name}": f"{home}.{name}"
          for (module, name), home in _apigen.homes().items() if home != module}


def _resolve_reexport(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    if (node["reftype"] in ("meth", "attr") and "." not in node["reftarget"]
            and node["refdoc"].startswith("api/") and "/generated/" not in node["refdoc"]):
        # a summary line in a table of classes names a method of its row's class: plain text
        return contnode
    target = node["reftarget"]
    candidates = [target]
    if node.get("py:module"):
        candidates.append(f"{node['py:module']}.{target}")
    for candidate in candidates:
        if candidate in _HOMES:
            domain = env.get_domain("py")
            return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                       _HOMES[candidate], node, contnode)
    return None


# "ndarray of shape (n_features_in_,)": in reST a word ending in "_" is a link to a target;
# docstrings are written for the terminal, so such shapes are escaped here.
_SHAPE = re.compile(r"shape \(([^)]*)\)")


def _escape_shapes(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        if "shape (" in line and "_" in line:
            lines[i] = _SHAPE.sub(
                lambda m: "shape (" + re.sub(r"(?<=\w)_(?=[,\s]|$)", r"\\_", m.group(1)) + ")",
                line)


def setup(app):
    app.connect("autodoc-process-docstring", _escape_shapes, priority=400)
    app.connect("autodoc-skip-member", _skip_foreign_member)
    app.connect("missing-reference", _resolve_reexport)
    app.connect("source-read", _add_unlisted_pages)
    app.connect("env-get-outdated", _always_reread_indexes)
