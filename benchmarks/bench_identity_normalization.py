"""Fair identity normalisation (FIN, Harvard-GF) against the same network without it.

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_identity_normalization.py`` (5 splits of
COMPAS (race) and Adult (sex); ``--views compas_race`` and ``--splits N`` to select). Results
are cached per (view, split) in ``benchmarks/results/identity_normalization.json``; the tables
are in docs/fairness.md (section "Fair identity normalisation").

Protocol (that of ``bench_fairness_tradeoff.py --seed-methods``): 70/30 split stratified by the
label (seeds 0-4), ``_harness.make_preprocessor`` fitted on the training rows, the protected
attribute stays a model input; ``_harness.fair_loss`` settings (hidden layers (64, 64),
early stopping on 10 % of the training rows). COMPAS groups: African-American, Caucasian and
the other races merged. Models, fitted in the same run on the same split:

- ``default``: the network without FIN (given no groups);
- ``FIN``: ``identity_normalization=True`` at the authors' defaults (momentum 0.3, mu and
  sigma started at ``randn * 0.01`` and ``randn``), groups in ``fit`` and ``predict``.
- ``FIN, momentum (validation)``: the momentum of :data:`MOMENTA` with the best ES-AUC on a
  validation split of the training rows (20 %, stratified by label; ties: the authors' 0.3),
  refitted on all training rows;
- ``default, no linear start`` and ``FIN, no linear start``: both with ``linear_start=False``
  (with the linear start the network's output layer, which FIN feeds, starts at zero).

No test row informs a choice: every setting is a default or chosen on validation rows of the
training split. Test metrics: accuracy, ROC AUC, demographic parity and equalized odds
differences (largest gap between the view's groups, argmax predictions), ECE (15 bins, top
label), worst-group accuracy, and the paper's measure, the equity-scaled AUC
``ES-AUC = AUC / (1 + sum_g |AUC - AUC_g|)`` with the largest gap between the groups' AUCs
(``AUC gap``).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import warnings  # noqa: E402

import _harness as bench  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from bench_fairness_tradeoff import SEED_VIEWS  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from sklearn_fairloss.metrics import equity_scaled_score, worst_group_score  # noqa: E402

CACHE = bench.ROOT / "benchmarks" / "results" / "identity_normalization.json"
#: The views of ``bench_fairness_tradeoff.py --seed-methods`` with one attribute.
VIEWS = {name: SEED_VIEWS[name] for name in ("compas_race", "adult_sex")}
MODELS = {
    "default": dict(),
    "FIN": dict(identity_normalization=True),
    "default, no linear start": dict(linear_start=False),
    "FIN, no linear start": dict(identity_normalization=True, linear_start=False),
}
METRICS = ["accuracy", "ROC AUC", "DP diff", "EO diff", "ECE", "worst acc", "ES-AUC",
           "AUC gap"]
#: Momenta of the validation choice (the authors' 0.3 first: it wins ties).
MOMENTA = [0.3, 0.0, 0.7]
VALIDATION = 0.2


def test_metrics(y, proba, groups, seconds):
    """The test metrics of :data:`METRICS` (and ``fit s``) of one model."""
    pred = proba.argmax(axis=1)
    row = bench.evaluate(y, pred, proba, METRICS[:5], seconds=seconds, sensitive_features=groups)
    row["worst acc"] = worst_group_score("accuracy", y, pred, sensitive_features=groups)
    row["ES-AUC"] = equity_scaled_score("roc_auc_score", y, proba[:, 1],
                                        sensitive_features=groups)
    aucs = [roc_auc_score(y[groups == g], proba[groups == g, 1]) for g in np.unique(groups)]
    row["AUC gap"] = float(max(aucs) - min(aucs))
    return row


def choose_momentum(dataset, X, y, groups, seed):
    """The momentum of :data:`MOMENTA` with the best validation ES-AUC (training rows only)."""
    fit, val = train_test_split(np.arange(len(y)), test_size=VALIDATION, stratify=y,
                                random_state=seed)
    scores = []
    for m in MOMENTA:
        clf = bench.fair_loss(dataset, identity_normalization={"momentum": m})
        clf.fit(X[fit], y[fit], sensitive_features=groups[fit])
        proba = clf.predict_proba(X[val], sensitive_features=groups[val])
        scores.append(equity_scaled_score("roc_auc_score", y[val], proba[:, 1],
                                          sensitive_features=groups[val]))
    return MOMENTA[int(np.argmax(scores))]


def run_split(name, seed, print_fn=print):
    """Test rows of every model of :data:`MODELS` on split ``seed`` of view ``name``."""
    view = VIEWS[name]
    data = bench.load_split(view["dataset"], seed)
    g_tr, g_te = view["groups"](data["S_tr"]), view["groups"](data["S_te"])
    rows = []
    models = dict(MODELS)
    momentum = choose_momentum(view["dataset"], data["X_tr"], data["y_tr"], g_tr, seed)
    models["FIN, momentum (validation)"] = dict(identity_normalization={"momentum": momentum})
    for model, params in models.items():
        clf = bench.fair_loss(view["dataset"], **params)
        groups = "identity_normalization" in params
        fit_kw = {"sensitive_features": g_tr} if groups else {}
        clf, seconds = bench.timed(
            lambda clf=clf, fit_kw=fit_kw: clf.fit(data["X_tr"], data["y_tr"], **fit_kw))
        predict_kw = {"sensitive_features": g_te} if groups else {}
        row = test_metrics(data["y_te"], clf.predict_proba(data["X_te"], **predict_kw), g_te,
                           seconds)
        setting = f"momentum {momentum:g}" if "validation" in model else ""
        rows.append({"view": name, "model": model, "setting": setting, "seed": seed,
                     "epochs": int(clf.n_iter_), **row})
        print_fn(f"# {name} split {seed} {model}: accuracy {row['accuracy']:.4f}, AUC "
                 f"{row['ROC AUC']:.4f}, DP {row['DP diff']:.4f}, {seconds:.1f} s", flush=True)
    return rows


def run(views, n_splits, cache_path=CACHE, print_fn=print):
    """Every view on ``n_splits`` splits (cached); print one table per view."""
    all_rows = []
    for name in views:
        rows = []
        for seed in range(n_splits):
            key = f"{name}|{seed}"
            cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
            if key not in cache:
                cache[key] = run_split(name, seed, print_fn)
                cache_path.parent.mkdir(parents=True, exist_ok=True)
                cache_path.write_text(json.dumps(cache, indent=0, sort_keys=True))
            rows += cache[key]
        print_fn(f"\n### {VIEWS[name]['title']} ({n_splits} splits, mean ± sd)\n")
        for baseline, models in (("default", ["default", "FIN", "FIN, momentum (validation)"]),
                                 ("default, no linear start",
                                  ["default, no linear start", "FIN, no linear start"])):
            mine = [r for r in rows if r["model"] in models]
            for line in bench.split_summary(
                    mine, METRICS + ["epochs", "fit s"], baseline, fmt=".4f",
                    wins=[("accuracy", ">"), ("ROC AUC", ">"), ("ES-AUC", ">"),
                          ("DP diff", "<"), ("worst acc", ">")]):
                print_fn(line)
            print_fn("")
        chosen = [r["setting"] for r in rows if r["model"] == "FIN, momentum (validation)"]
        print_fn("momentum chosen per split: " + ", ".join(chosen) + "\n")
        all_rows += rows
    return all_rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", nargs="+", choices=list(VIEWS), default=list(VIEWS))
    parser.add_argument("--splits", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    return run(args.views, args.splits)


if __name__ == "__main__":
    main()
