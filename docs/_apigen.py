"""Write the API reference pages (``docs/api/*.rst``) from the package's ``__all__`` lists.

Called by ``conf.py`` before every build, so the reference always lists every public name of
``sklearn_fairloss`` and of each subpackage. A name exported by several subpackages (a
re-export such as ``calibration.TemperatureScaling``) is documented once, in its home
subpackage (the lowest layer that exports it); the other subpackages list it with a link.
The written files are build products (``docs/api/`` is ignored by git).
"""

import functools
import importlib
import inspect
from pathlib import Path

PACKAGE = "sklearn_fairloss"
# lowest layer first (docs/architecture.md): a re-exported name's home is the first one here
SUBPACKAGES = ["metrics", "postprocessing", "weighting", "datasets", "plotting", "losses",
               "fairness", "calibration"]
TITLES = {
    "metrics": "Metrics and scorers",
    "postprocessing": "Post-processing: calibrators and decision rules",
    "weighting": "Sample-weight strategies and batch samplers",
    "datasets": "Datasets",
    "plotting": "Plotting",
    "losses": "Losses",
    "fairness": "Fairness penalties, group scalings and thresholds",
    "calibration": "Calibration",
}


def _kind(obj):
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def public_names():
    """Return ``{module: [names]}`` for the package and each subpackage, in ``__all__`` order."""
    top = importlib.import_module(PACKAGE)
    names = {PACKAGE: list(top.__all__)}
    for sub in SUBPACKAGES:
        module = importlib.import_module(f"{PACKAGE}.{sub}")
        names[f"{PACKAGE}.{sub}"] = list(module.__all__)
    return names


def homes():
    """Return ``{(module, name): home module}`` for every public name."""
    names = public_names()
    home_of_object = {}
    result = {}
    for module_name, module_names in names.items():
        module = importlib.import_module(module_name)
        for name in module_names:
            obj = getattr(module, name)
            key = (name, id(obj))
            home_of_object.setdefault(key, module_name)
            result[(module_name, name)] = home_of_object[key]
    return result


def _reference(value, objects):
    """reST for one registry value: a link to a public object, with a partial's keywords."""
    keywords = ""
    if isinstance(value, functools.partial):
        keywords = ", ".join(f"``{k}={v!r}``" for k, v in value.keywords.items())
        value = value.func
    target = objects.get(id(value))
    if target is not None:
        role = "class" if inspect.isclass(value) else "func"
        text = f":{role}:`~{target}`"
    else:
        text = f"``{getattr(value, '__module__', '')}.{getattr(value, '__name__', repr(value))}``"
    return f"{text} with {keywords}" if keywords else text


def _registry_block(module_name, name, value, objects):
    lines = [f".. py:data:: {name}", "   :type: dict", "",
             f"   The string aliases accepted for this kind of object, and what each builds "
             f"(``{module_name.split('.')[-1]}.{name}[alias]``):", ""]
    for alias, target in value.items():
        lines.append(f"   - ``{alias!r}``: {_reference(target, objects)}")
    return lines + [""]


def write_api_pages(out_dir):
    """Write ``index.rst`` and one page per module into ``out_dir``; return the page names."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = public_names()
    home = homes()
    objects = {}
    for (module_name, name), home_module in home.items():
        if module_name == home_module:
            obj = getattr(importlib.import_module(module_name), name)
            objects.setdefault(id(obj), f"{module_name}.{name}")

    pages = []
    for module_name, module_names in names.items():
        module = importlib.import_module(module_name)
        short = module_name.split(".")[-1]
        title = f"``{module_name}``" if module_name == PACKAGE else (
            f"``{module_name}``: {TITLES[short]}")
        lines = [title, "=" * len(title), "", f".. automodule:: {module_name}", "",
                 f".. currentmodule:: {module_name}", ""]
        own = {"class": [], "function": [], "data": []}
        elsewhere = []
        for name in module_names:
            if name == "__version__":
                continue
            if home[(module_name, name)] == module_name:
                own[_kind(getattr(module, name))].append(name)
            else:
                elsewhere.append(f"{home[(module_name, name)]}.{name}")
        for kind, heading in (("class", "Classes"), ("function", "Functions")):
            if own[kind]:
                lines += [heading, "-" * len(heading), "", ".. autosummary::",
                          "   :toctree: generated/", "", ""]
                lines[-1:] = [f"   {name}" for name in own[kind]] + [""]
        if own["data"]:
            lines += ["Registries", "----------", ""]
            for name in own["data"]:
                value = getattr(module, name)
                if isinstance(value, dict):
                    lines += _registry_block(module_name, name, value, objects)
                else:
                    lines += [f".. autodata:: {name}", ""]
        if module_name == PACKAGE:
            lines += ["Version", "-------", "", ".. py:data:: __version__", "   :type: str", "",
                      "   The installed version of sklearn-fairloss.", ""]
        if elsewhere:
            heading = "Also exported here"
            lines += [heading, "-" * len(heading), "",
                      f"These names are importable from ``{module_name}`` too; each is documented "
                      "on the page of its home subpackage.", "", ".. autosummary::", ""]
            lines += [f"   ~{target}" for target in elsewhere] + [""]
        page = module_name
        (out_dir / f"{page}.rst").write_text("\n".join(lines))
        pages.append(page)

    index = ["API reference", "=============", "",
             "Every public name of the package, generated from its docstrings. Each subpackage "
             "is importable on its own; only :class:`~sklearn_fairloss.FairLossClassifier` and "
             "the training terms (losses, fairness penalties, calibration penalties) need torch.",
             "", ".. list-table::", "   :header-rows: 1", "   :widths: 35 65", "",
             "   * - Module", "     - What it holds"]
    for page in pages:
        short = page.split(".")[-1]
        what = "The estimator and the version." if page == PACKAGE else TITLES[short] + "."
        index += [f"   * - :doc:`{page}`", f"     - {what}"]
    index += ["", ".. toctree::", "   :hidden:", ""] + [f"   {page}" for page in pages] + [""]
    (out_dir / "index.rst").write_text("\n".join(index))
    return pages
