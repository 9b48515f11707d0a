"""Imbalance-aware losses and decision rules against the usual peers (issue 4).

Run: ``.venv/bin/python benchmarks/bench_imbalance.py`` (about 4.5 minutes on 2 cores;
``--quick`` for a smoke run on Adult 5 % with a handful of options; ``--datasets adult5 german``
to select data sets; ``--seeds N`` for the number of repeated Adult 5 % runs, default 10).
Every number comes from this one run.

Data sets:

- ``adult5`` / ``adult1``: Adult with every negative kept and the positives (income > 50K)
  subsampled without replacement (``numpy.random.default_rng(0)``) so that they are 5 % (resp.
  1 %) of the rows.
- ``german``: German credit (30 % positives = bad credit). ``batch_size=64`` for the network
  (630 training rows: with 512 it would take two steps per epoch).
- ``compas``: COMPAS (45 % positives = two-year recidivism).

Each: 70/30 split stratified by the label (seed 0), ``_harness.make_preprocessor`` fitted on
the training rows (the protected attributes stay model inputs, as in the demo).

Models. ``FairLossClassifier`` with the demo's settings (``_harness.fair_loss``) and each
loss / class weighting of :data:`OPTIONS`; every option is fitted once, with
``decision="balanced_accuracy"`` (which tunes ``threshold_`` on the held-out 10 % split that early
stopping already uses), and evaluated under several decision rules of that same fitted network:
``argmax`` (the training objective's decision), ``balanced`` (``argmax predict_proba /
class_prior_``) and the tuned threshold (``tuned BA``). Training does not depend on ``decision``
when ``early_stopping=True`` (same split, same seed), so this equals separate fits with each
``decision``; the rules are applied by the estimator's own ``predict`` (``decision`` set and
``threshold_`` cleared on a shallow copy). ``decision="f1"`` is a separate fit for two options.
Peers: LogisticRegression (plain, ``class_weight="balanced"``), imbalanced-learn's
RandomOverSampler + LR, SMOTE + LR, BalancedRandomForestClassifier and EasyEnsembleClassifier,
HistGradientBoostingClassifier (plain, ``class_weight="balanced"``).

Repeated Adult 5 % runs only (not the seed-0 tables, to keep the run time): two more of ours
(:data:`SPLINE_MODELS`), on spline features (:func:`make_spline_preprocessor`: the demo's
preprocessing plus a spline basis of each numeric column's quantiles, fitted on the training
rows), both with the ``balanced`` decision: one network (``fair_loss(dataset,
decision="balanced")``) and a soft ``VotingClassifier`` of 5 networks (``random_state`` 0..4)
inside a ``FixedThresholdClassifier`` whose threshold is the training prior of the positive
class (the ``balanced`` rule on the averaged probabilities).

Columns (test split): balanced accuracy and F1 of ``predict``; average precision and ROC AUC of
``predict_proba[:, 1]``; Brier score of the positive class; ECE with 15 equal-width bins (top
label) of ``predict_proba``; fit seconds (one fit per option, shared by its decision rules; the
machine is shared, so they are noisy). All libraries run single-threaded (torch, BLAS).

Target (issue 4, Adult 5 %): a FairLossClassifier row with balanced accuracy >= the best peer's
AND a Brier score <= 1.10 x the plain, unweighted models' (the lower of plain LogisticRegression
and ``FairLoss cross_entropy``). Checked on the seed-0 table and on the means of the repeated
runs (subsample and split seeds 0..N-1: the test split holds ~590 positives, so balanced
accuracy moves by ~0.01 between seeds; the spline rows count as ours there), each against the
issue's peers (:data:`ISSUE_PEERS`) and against every peer (adds HistGradientBoosting with
``class_weight="balanced"``).

``--cooldown-splits N``: instead, temperature sampling (Li et al. 2025, ``tau=5``) without a
cooldown and with its cooldown (``cooldown=0.5``, ``"step"`` and ``"linear"``) on N splits of
Adult 5 %, COMPAS and German, against cross-entropy fitted on the same split (see
:func:`run_cooldown`; ``--budget "20 epochs"``: without early stopping, so that the cooldown
runs); results cached in ``benchmarks/results/cooldown.json``.

``--dice-splits N``: instead, the self-adjusting Dice loss at its default (``alpha=0.01``) and
at the old ``alpha=1`` against cross-entropy, from a random start and from the package's linear
start, on N splits of Adult 5 %, COMPAS and German (see
:func:`run_dice`); results cached in ``benchmarks/results/dice.json``.

``--threshold-splits N``: instead, the decision rules of one cross-entropy network on N splits
of Adult 5 % (``Argmax``, the ``balanced`` rule, ``FixedThreshold`` at the training prior, and
``TunedThreshold`` for balanced accuracy and for F1, tuned by the estimator on its held-out
early-stopping rows; see :func:`run_thresholds`); results cached in
``benchmarks/results/thresholds.json``.

``--loss-splits N``: instead, ``class_balanced``, ``aldr_kl``, ``focal``, ``ldam_drw``,
``tversky``, ``anyloss_f1`` and ``mann_whitney`` at their defaults against cross-entropy on N
splits of Adult 5 % (see :func:`run_losses`); results cached in
``benchmarks/results/imbalance_losses.json``.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import copy  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import _harness as bench  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from imblearn.ensemble import (  # noqa: E402
    BalancedRandomForestClassifier,
    EasyEnsembleClassifier,
)
from imblearn.over_sampling import SMOTE, RandomOverSampler  # noqa: E402
from imblearn.pipeline import make_pipeline as make_imb_pipeline  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, VotingClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import FixedThresholdClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import QuantileTransformer, SplineTransformer  # noqa: E402

from sklearn_fairloss.losses import SelfAdjustingDiceLoss  # noqa: E402
from sklearn_fairloss.postprocessing import make_decision_rule  # noqa: E402
from sklearn_fairloss.weighting import TemperatureSampling, WeightedBatchSampler  # noqa: E402

SUBSAMPLE_SEED = 0

#: FairLossClassifier has the demo's settings, ``_harness.fair_loss(dataset)``.
DATASETS = {
    "adult5": dict(title="Adult, positives subsampled to 5 %", dataset="adult", rate=0.05),
    "adult1": dict(title="Adult, positives subsampled to 1 %", dataset="adult", rate=0.01),
    "german": dict(title="German credit", dataset="german"),
    "compas": dict(title="COMPAS", dataset="compas"),
}

#: (label, FairLossClassifier parameters); each is fitted once (see the module docstring).
OPTIONS = [
    ("cross_entropy", {}),
    ("cross_entropy cw=balanced", dict(class_weight="balanced")),
    ("cw=balanced + post temperature",
     dict(class_weight="balanced", post_calibration="temperature")),
    ("logit_adjusted", dict(loss="logit_adjusted")),
    ("balanced_softmax", dict(loss="balanced_softmax")),
    ("class_balanced", dict(loss="class_balanced")),
    ("focal", dict(loss="focal")),
    ("ldam_drw", dict(loss="ldam_drw")),
    ("dice", dict(loss="dice")),
    ("tversky", dict(loss="tversky")),
    ("anyloss_f1", dict(loss="anyloss_f1")),
    ("mann_whitney", dict(loss="mann_whitney")),
    ("aldr_kl", dict(loss="aldr_kl")),
    ("gce", dict(loss="gce")),
]
#: Decision rules applied to every fitted option: (column label, ``decision``).
DECISIONS = [("argmax", "argmax"), ("balanced", "balanced"), ("tuned BA", "balanced_accuracy")]
#: Options also fitted with ``decision="f1"`` (a separate fit: one tuned threshold per fit).
F1_OPTIONS = ("cross_entropy", "logit_adjusted")
QUICK_OPTIONS = ("cross_entropy", "cross_entropy cw=balanced", "logit_adjusted", "focal")
QUICK_PEERS = ("LogReg", "LogReg cw=balanced", "SMOTE + LogReg")
#: Peers the issue names (class weighting for LR; ROS, SMOTE, BRF, EasyEnsemble; HGB); the
#: target is checked against these and, separately, against every peer of the table (which adds
#: ``HistGradientBoosting cw=balanced``).
ISSUE_PEERS = ("LogReg cw=balanced", "RandomOverSampler + LogReg", "SMOTE + LogReg",
               "BalancedRandomForest", "EasyEnsemble", "HistGradientBoosting")
#: Options of the repeated Adult 5 % runs (``--seeds``): the calibrated ones of the table.
REPEAT_OPTIONS = ("cross_entropy", "cross_entropy cw=balanced", "logit_adjusted",
                  "class_balanced", "aldr_kl")
#: Networks of the repeated Adult 5 % runs only, on the spline features
#: (:func:`make_spline_preprocessor`) with the ``balanced`` decision: (label, factory of the
#: FairLossClassifier's data set and the training prior of the positive class). The vote averages
#: the probabilities of 5 networks (``random_state`` 0..4) and predicts positive where the mean
#: is >= the prior (the ``balanced`` rule for two classes).
SPLINE_MODELS = [
    ("cross_entropy spline [balanced]",
     lambda dataset, prior: bench.fair_loss(dataset, decision="balanced")),
    ("5-net vote spline [balanced]",
     lambda dataset, prior: FixedThresholdClassifier(
         VotingClassifier([(f"net{r}", bench.fair_loss(dataset, random_state=r)) for r in range(5)],
                          voting="soft"),
         threshold=prior, response_method="predict_proba")),
]
#: The plain, unweighted models the Brier target compares with.
PLAIN = ("LogReg", "FL cross_entropy [argmax]")


# --------------------------------------------------------------------------------------------
# data


def subsample_positives(X, y, S, rate, seed=SUBSAMPLE_SEED):
    """Keep every negative; draw positives (without replacement) to make ``rate`` of the rows."""
    rng = np.random.default_rng(seed)
    neg, pos = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    n_pos = int(round(len(neg) * rate / (1 - rate)))
    keep = np.sort(np.concatenate([neg, rng.choice(pos, size=n_pos, replace=False)]))
    return X.iloc[keep].reset_index(drop=True), y[keep], S.iloc[keep].reset_index(drop=True)


def make_spline_preprocessor():
    """:func:`make_preprocessor` plus a spline basis (6 knots) of each numeric column's
    training quantiles; the standardised numeric columns are kept."""
    spline = make_pipeline(QuantileTransformer(n_quantiles=200, random_state=0),
                           SplineTransformer(n_knots=6))
    return bench.make_preprocessor((spline, bench.numeric_columns()))


def split(name, seed=0, spline=False):
    """Subsample (Adult) and split with ``seed`` (0 for the main tables).

    Preprocessors are fitted on the training rows. ``spline``: also ``X_tr_spline`` and
    ``X_te_spline``, from :func:`make_spline_preprocessor`.
    """
    spec = DATASETS[name]
    select = None
    if "rate" in spec:
        def select(X, y, S):
            return subsample_positives(X, y, S, spec["rate"], seed=SUBSAMPLE_SEED + seed)
    features = {"": bench.make_preprocessor}
    if spline:
        features["_spline"] = make_spline_preprocessor
    return bench.load_split(spec["dataset"], seed, select=select, features=features)


METRICS = ["bal acc", "F1", "AP", "ROC AUC", "Brier", "ECE", "pos rate"]


# --------------------------------------------------------------------------------------------
# models


def with_decision(clf, decision):
    """The fitted ``clf`` predicting with another ``decision`` (same network, shallow copy):
    the rule of :mod:`sklearn_fairloss.postprocessing` fitted as ``fit`` fits it."""
    other = copy.copy(clf)
    if decision == clf.decision:
        return other
    other.decision = decision
    rule = make_decision_rule(decision, len(clf.classes_))
    if rule.needs_held_out:
        raise ValueError(f"a metric decision ({decision!r}) needs its own fit")
    # the prior correction of the fitted model (what fit passes to the rule)
    other.decision_rule_ = rule.fit(None, class_prior=clf.class_prior_,
                                    log_prior_shift=clf._log_prior_shift)
    other.threshold_ = getattr(other.decision_rule_, "threshold_", None)
    return other


def fit_ours(name, data, params, decision="balanced_accuracy"):
    clf = bench.fair_loss(DATASETS[name]["dataset"], **params, decision=decision)
    return bench.timed(lambda: clf.fit(data["X_tr"], data["y_tr"]))


def peers(quick=False):
    lr = dict(max_iter=1000)
    table = [
        ("LogReg", lambda: LogisticRegression(**lr)),
        ("LogReg cw=balanced", lambda: LogisticRegression(class_weight="balanced", **lr)),
        ("RandomOverSampler + LogReg",
         lambda: make_imb_pipeline(RandomOverSampler(random_state=0), LogisticRegression(**lr))),
        ("SMOTE + LogReg",
         lambda: make_imb_pipeline(SMOTE(random_state=0), LogisticRegression(**lr))),
        ("BalancedRandomForest",
         lambda: BalancedRandomForestClassifier(random_state=0, n_jobs=1)),
        ("EasyEnsemble", lambda: EasyEnsembleClassifier(random_state=0, n_jobs=1)),
        ("HistGradientBoosting", lambda: HistGradientBoostingClassifier(random_state=0)),
        ("HistGradientBoosting cw=balanced",
         lambda: HistGradientBoostingClassifier(class_weight="balanced", random_state=0)),
    ]
    return [(label, f) for label, f in table if not quick or label in QUICK_PEERS]


# --------------------------------------------------------------------------------------------
# the run

COLUMNS = METRICS + ["fit s"]
WIDTH = 46
TABLE = bench.Table(bench.text_column("model", WIDTH), *COLUMNS)


def run_dataset(name, quick=False, seed=0, options=None, spline=False, print_fn=print):
    """One table; ``spline``: add the :data:`SPLINE_MODELS` rows (repeated runs only)."""
    data = split(name, seed, spline=spline)
    rows = []

    def add(label, pred, proba, seconds, kind):
        row = {"dataset": name, "seed": seed, "model": label, "kind": kind,
               **bench.evaluate(data["y_te"], pred, proba, METRICS, seconds)}
        rows.append(row)
        print_fn(TABLE.row(row), flush=True)

    def fit_and_add(label, make, kind, features=""):
        add(label, *bench.fit_predict(make(), data, features), kind)

    seed_note = f", seed {seed}" if seed else ""
    print_fn(f"\n== {DATASETS[name]['title']}{seed_note}: {len(data['y_tr'])} training rows "
             f"({int(data['y_tr'].sum())} positives), {len(data['y_te'])} test rows "
             f"({int(data['y_te'].sum())} positives, {data['y_te'].mean():.2%}) ==")
    print_fn(TABLE.header())
    for label, factory in peers(quick):
        fit_and_add(label, factory, "peer")
    for label, params in OPTIONS:
        if (quick and label not in QUICK_OPTIONS) or (options and label not in options):
            continue
        try:
            clf, seconds = fit_ours(name, data, params)
        except Exception as exc:  # report and go on: one broken option must not stop the run
            print_fn(f"FL {label:<{WIDTH - 3}} FAILED: {type(exc).__name__}: {exc}")
            continue
        proba = clf.predict_proba(data["X_te"])
        for column, decision in DECISIONS:
            pred = with_decision(clf, decision).predict(data["X_te"])
            add(f"FL {label} [{column}]", pred, proba, seconds, "ours")
        if label in F1_OPTIONS and not quick and not options:
            clf, seconds = fit_ours(name, data, params, decision="f1")
            add(f"FL {label} [tuned F1]", clf.predict(data["X_te"]),
                clf.predict_proba(data["X_te"]), seconds, "ours")
    prior = float(data["y_tr"].mean())
    for label, factory in SPLINE_MODELS if spline else []:
        fit_and_add(f"FL {label}", lambda f=factory: f(DATASETS[name]["dataset"], prior), "ours",
                    features="_spline")
    return rows


# --------------------------------------------------------------------------------------------
# target (issue 4): Adult 5 %


def check_target(rows, peer_labels=None, dataset="adult5", what="", print_fn=print):
    """Balanced accuracy >= the best peer's AND Brier within 10 % of the plain models'.

    ``rows``: one row per model (one seed, or means over seeds); ``peer_labels``: the peers to
    beat (all when None). The Brier reference is the better (lower) of the two plain models.
    """
    plain = {label: bench.find_row(rows, dataset=dataset, model=label) for label in PLAIN}
    peer_rows = [r for r in rows if r["dataset"] == dataset and r["kind"] == "peer"
                 and (peer_labels is None or r["model"] in peer_labels)]
    if not peer_rows or any(r is None for r in plain.values()):
        print_fn(f"\n(target needs {dataset} with the peers and {PLAIN}: skipped)")
        return None
    best_peer = max(peer_rows, key=lambda r: r["bal acc"])
    ref_brier = min(r["Brier"] for r in plain.values())
    peers_what = "the issue's peers" if peer_labels is not None else "all peers"
    print_fn(f"\n-- Target vs {peers_what}{what} --")
    print_fn(f"best peer by balanced accuracy: {best_peer['model']} {best_peer['bal acc']:.4f} "
             f"(Brier {best_peer['Brier']:.4f}, {best_peer['Brier'] / ref_brier:.2f}x the "
             "better plain model's)")
    print_fn("plain, unweighted models: " + ", ".join(
        f"{label} Brier {r['Brier']:.4f} (bal acc {r['bal acc']:.4f})"
        for label, r in plain.items()))
    print_fn(f"conditions: bal acc >= {best_peer['bal acc']:.4f}; Brier <= 1.10 x "
             f"{ref_brier:.4f} = {1.1 * ref_brier:.4f} (the better of the two plain models)")

    def describe(r):
        ratios = ", ".join(f"{r['Brier'] / p['Brier']:.3f}x {label}"
                           for label, p in plain.items())
        gain = r["bal acc"] - best_peer["bal acc"]
        return (f"{r['model']}: bal acc {r['bal acc']:.4f} ({gain:+.4f} vs best peer), "
                f"Brier {r['Brier']:.4f} ({ratios}), ECE {r['ECE']:.4f}, "
                f"AP {r['AP']:.4f}")

    ours = [r for r in rows if r["dataset"] == dataset and r["kind"] == "ours"]
    meeting = [r for r in ours if r["bal acc"] >= best_peer["bal acc"]
               and r["Brier"] <= 1.1 * ref_brier]
    if meeting:
        best = max(meeting, key=lambda r: r["bal acc"])
        print_fn(f"[PASS] {describe(best)}")
        print_fn(f"       ({len(meeting)} configurations meet both: "
                 + ", ".join(r["model"] for r in meeting) + ")")
        return True
    calibrated = [r for r in ours if r["Brier"] <= 1.1 * ref_brier]
    pool = calibrated or ours
    best = max(pool, key=lambda r: r["bal acc"])
    why = "best bal acc with the Brier condition met" if calibrated else "best bal acc"
    print_fn(f"[FAIL] closest ({why}): {describe(best)}")
    return False


def run_repeats(n_seeds, dataset="adult5", print_fn=print):
    """Adult 5 % again for subsample/split seeds ``0 .. n_seeds - 1``: means, spreads, target.

    The test split has ~590 positives, so one split's balanced accuracy moves by about 0.01
    between seeds; the repeats tell such differences from noise.
    """
    print_fn(f"\n== {DATASETS[dataset]['title']}: {n_seeds} seeds (subsample and split seed "
             f"0..{n_seeds - 1}; every peer, options {', '.join(REPEAT_OPTIONS)}; on spline "
             f"features: {', '.join(label for label, _ in SPLINE_MODELS)}) ==")
    rows = []
    for seed in range(n_seeds):
        rows += run_dataset(dataset, seed=seed, options=REPEAT_OPTIONS, spline=True,
                            print_fn=lambda *a, **k: None)
        print_fn(f"  seed {seed} done", flush=True)
    means = bench.aggregate(rows, "model", COLUMNS, sd=("bal acc", "Brier"),
                            keep=("dataset", "kind"))
    by_seed = {r["model"]: np.array([s["bal acc"] for s in rows if s["model"] == r["model"]])
               for r in means}
    peer_means = [r for r in means if r["kind"] == "peer"]
    best_peer = max(peer_means, key=lambda r: r["bal acc"])["model"]
    print_fn(f"{MEANS_TABLE.header()}  bal acc - {best_peer}: mean, seeds ahead")
    for r in means:
        diff = by_seed[r["model"]] - by_seed[best_peer]
        print_fn(f"{MEANS_TABLE.row(r)}  {diff.mean():+.4f}, {int((diff >= 0).sum())}/{n_seeds}")
    return means


#: The table of :func:`run_repeats`.
MEANS_TABLE = bench.Table(bench.text_column("model", WIDTH, "model (mean over seeds)"), "bal acc",
                          bench.Column("bal acc sd", 7, title="sd"), "Brier",
                          bench.Column("Brier sd", 7, title="sd"), "ECE", "AP", "ROC AUC")


# --------------------------------------------------------------------------------------------
# temperature sampling and its cooldown on repeated splits (issue 15)

COOLDOWN_CACHE = bench.ROOT / "benchmarks" / "results" / "cooldown.json"
#: (label, batch_sampler): the paper's tau=5 and cooldown=0.5 (Li et al. 2025, Section 4).
SAMPLERS = [
    ("cross_entropy", None),
    ("tau=5, no cooldown", WeightedBatchSampler(TemperatureSampling(tau=5.0))),
    ("tau=5, cooldown 0.5 step",
     WeightedBatchSampler(TemperatureSampling(tau=5.0), cooldown=0.5)),
    ("tau=5, cooldown 0.5 linear",
     WeightedBatchSampler(TemperatureSampling(tau=5.0), cooldown=0.5,
                          cooldown_schedule="linear")),
]
COOLDOWN_METRICS = ["bal acc", "F1", "AP", "ROC AUC", "Brier", "ECE"]
#: Training budgets of the cooldown rows: the benchmark's early stopping (``max_epochs=40``,
#: the cooldown due from epoch 21), or a fixed budget of 20 epochs without early stopping, as
#: the paper trains (the cooldown then runs: epochs 11-20).
BUDGETS = {"early stopping": {}, "20 epochs": dict(early_stopping=False, max_epochs=20)}


def cooldown_split(name, seed, budget="early stopping"):
    """The rows of one split of :func:`run_cooldown`."""
    data = split(name, seed)
    rows = []
    for label, sampler in SAMPLERS:
        clf = bench.fair_loss(DATASETS[name]["dataset"], **bench.SEED_METHOD_PARAMS,
                              **BUDGETS[budget], batch_sampler=sampler)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            clf, seconds = bench.timed(lambda clf=clf: clf.fit(data["X_tr"], data["y_tr"]))
        never = any("cooldown" in str(w.message) and "never ran" in str(w.message)
                    for w in caught)
        proba = clf.predict_proba(data["X_te"])
        rows.append({"model": label, "seed": seed, "epochs": int(clf.n_iter_),
                     "cooldown ran": float(sampler is not None and sampler.cooldown > 0
                                           and not never),
                     **bench.evaluate(data["y_te"], proba.argmax(axis=1), proba,
                                      COOLDOWN_METRICS, seconds)})
    return rows


def run_cooldown(datasets, n_splits, budget="early stopping", cache_path=COOLDOWN_CACHE,
                 print_fn=print):
    """Per data set and split: cross-entropy and the :data:`SAMPLERS` rows under ``budget``
    (:data:`BUDGETS`; with the ``_harness`` early stopping the cooldown starts at epoch 21 and
    runs only when training gets that far); the argmax decision of the prior-corrected
    ``predict_proba``. Prints the tables; returns the rows."""
    all_rows = []
    suffix = "" if budget == "early stopping" else f"|{budget}"
    for name in datasets:
        rows = bench.cached_splits(
            cache_path, lambda seed, name=name: f"{name}|{seed}{suffix}", n_splits,
            lambda seed, name=name: cooldown_split(name, seed, budget),
            progress=lambda seed, rows, name=name: f"# {name} split {seed}: bal acc "
            + ", ".join(f"{r['model']} {r['bal acc']:.4f}" for r in rows), print_fn=print_fn)
        print_fn(f"\n### {DATASETS[name]['title']}: temperature sampling, {budget} "
                 f"({n_splits} splits, mean ± sd)\n")
        for line in bench.split_summary(
                rows, COOLDOWN_METRICS + ["epochs", "cooldown ran", "fit s"], "cross_entropy",
                wins=[("bal acc", ">"), ("AP", ">"), ("Brier", "<")]):
            print_fn(line)
        all_rows += [dict(r, dataset=name) for r in rows]
    return all_rows


# --------------------------------------------------------------------------------------------
# self-adjusting Dice at its default on repeated splits (issue 15)

DICE_CACHE = bench.ROOT / "benchmarks" / "results" / "dice.json"
#: (label, FairLossClassifier parameters, added to ``_harness.SEED_METHOD_PARAMS``): the default
#: alpha=0.01 (since issue 15) and the old alpha=1, whose gradient is zero at p = 0.5 (the
#: random start's); then cross-entropy and the default from the package's linear start.
DICE_MODELS = [
    ("cross_entropy", {}),
    ("dice (alpha=0.01, default)", dict(loss="dice")),
    ("dice alpha=1 (old default)", dict(loss=SelfAdjustingDiceLoss(alpha=1.0))),
    ("cross_entropy, linear start", dict(linear_start=True)),
    ("dice (alpha=0.01), linear start", dict(loss="dice", linear_start=True)),
]
DICE_METRICS = ["AP", "bal acc", "bal acc [balanced]", "ROC AUC", "Brier", "ECE"]


def dice_split(name, seed, cached=(), models=DICE_MODELS):
    """The rows of one split of :func:`run_dice` (or of :func:`run_losses` with its
    ``models``): ``cached`` rows kept, missing ones fitted."""
    data = split(name, seed)
    done = {r["model"]: r for r in cached}
    rows = []
    for label, params in models:
        if label in done:
            rows.append(done[label])
            continue
        clf, seconds = bench.timed(lambda params=params: bench.fair_loss(
            DATASETS[name]["dataset"], **{**bench.SEED_METHOD_PARAMS, **params}).fit(
            data["X_tr"], data["y_tr"]))
        proba = clf.predict_proba(data["X_te"])
        balanced = with_decision(clf, "balanced").predict(data["X_te"])
        rows.append({"model": label, "seed": seed, "epochs": int(clf.n_iter_),
                     **bench.evaluate(data["y_te"], proba.argmax(axis=1), proba,
                                      [m for m in DICE_METRICS if "[" not in m], seconds),
                     "bal acc [balanced]": bench.METRICS["bal acc"](data["y_te"], balanced,
                                                                    proba, None)})
    return rows


def _model_rows(name, n_splits, cache_path, models, shown, print_fn):
    """The rows of :func:`dice_split` with ``models`` on ``n_splits`` splits of ``name``,
    cached per split (rows cached by a run with fewer models are kept; the missing ones are
    fitted); prints ``shown`` of each split fitted."""
    rows = []
    for seed in range(n_splits):
        split_rows, computed = bench.cached_rows(
            cache_path, f"{name}|{seed}",
            lambda cached, seed=seed: dice_split(name, seed, cached, models=models),
            complete=lambda found: [r["model"] for r in found] == [m for m, _ in models])
        if computed:
            print_fn(f"# {name} split {seed}: {shown} " + ", ".join(
                f"{r['model']} {r[shown]:.4f}" for r in split_rows), flush=True)
        rows += split_rows
    return rows


def run_dice(datasets, n_splits, cache_path=DICE_CACHE, print_fn=print):
    """Per data set and split: cross-entropy and the :data:`DICE_MODELS` rows
    (``_harness.SEED_METHOD_PARAMS`` unless the row says "linear start"); ``bal acc`` of the
    argmax decision, ``[balanced]`` of the prior-corrected one (``decision="balanced"``). Prints
    one table per start, each against cross-entropy from that start; returns the rows."""
    all_rows = []
    for name in datasets:
        rows = _model_rows(name, n_splits, cache_path, DICE_MODELS, "AP", print_fn)
        for start, baseline in (("random start", "cross_entropy"),
                                ("linear start", "cross_entropy, linear start")):
            mine = [r for r in rows if ("linear start" in r["model"]) == (start == "linear start")]
            print_fn(f"\n### {DATASETS[name]['title']}: self-adjusting Dice, {start} "
                     f"({n_splits} splits, mean ± sd)\n")
            for line in bench.split_summary(
                    mine, DICE_METRICS + ["epochs", "fit s"], baseline,
                    wins=[("AP", ">"), ("bal acc [balanced]", ">"), ("Brier", "<")]):
                print_fn(line)
        all_rows += [dict(r, dataset=name) for r in rows]
    return all_rows


# --------------------------------------------------------------------------------------------
# decision rules of one network on repeated splits (issue 15)

THRESHOLD_CACHE = bench.ROOT / "benchmarks" / "results" / "thresholds.json"
THRESHOLD_METRICS = ["bal acc", "F1", "pos rate", "AP", "ROC AUC", "Brier"]
#: (row label, ``decision``) applied to the network fitted with ``decision="balanced_accuracy"``
#: (``None``: its own tuned threshold; ``"prior"``: ``FixedThreshold`` at the training prior of
#: the positive class); ``[tuned F1]`` is a second fit with ``decision="f1"``.
THRESHOLD_RULES = [("[argmax]", "argmax"), ("[balanced]", "balanced"),
                   ("[fixed prior]", "prior"), ("[tuned BA]", None)]
THRESHOLD_MODELS = [label for label, _ in THRESHOLD_RULES] + ["[tuned F1]"]


def threshold_split(name, seed):
    """The rows of one split of :func:`run_thresholds`: cross-entropy
    (``_harness.SEED_METHOD_PARAMS``) under each decision rule; a tuned threshold is chosen by
    ``fit`` on the held-out early-stopping rows, never on the test rows."""
    data = split(name, seed)
    prior = float(data["y_tr"].mean())
    fits = {}
    for decision in ("balanced_accuracy", "f1"):
        fits[decision] = bench.timed(lambda decision=decision: bench.fair_loss(
            DATASETS[name]["dataset"], **bench.SEED_METHOD_PARAMS, decision=decision).fit(
            data["X_tr"], data["y_tr"]))
    rows = []
    for label in THRESHOLD_MODELS:
        decision = dict(THRESHOLD_RULES).get(label)
        clf, seconds = fits["f1" if label == "[tuned F1]" else "balanced_accuracy"]
        rule = clf if decision is None else with_decision(clf, prior if decision == "prior"
                                                          else decision)
        proba = clf.predict_proba(data["X_te"])
        rows.append({"model": label, "seed": seed, "epochs": int(clf.n_iter_),
                     "threshold": float(rule.threshold_) if rule.threshold_ is not None
                     else float("nan"),
                     **bench.evaluate(data["y_te"], rule.predict(data["X_te"]), proba,
                                      THRESHOLD_METRICS, seconds)})
    # training does not depend on ``decision`` (same early-stopping split and seed)
    rows[-1]["same network"] = float(np.allclose(
        fits["f1"][0].predict_proba(data["X_te"]),
        fits["balanced_accuracy"][0].predict_proba(data["X_te"]), atol=1e-6))
    return rows


def run_thresholds(datasets, n_splits, cache_path=THRESHOLD_CACHE, print_fn=print):
    """Per data set and split: the :data:`THRESHOLD_MODELS` rows, each against ``[argmax]`` on
    the same split. Prints the tables; returns the rows."""
    all_rows = []
    for name in datasets:
        rows = bench.cached_splits(
            cache_path, lambda seed, name=name: f"{name}|{seed}", n_splits,
            lambda seed, name=name: threshold_split(name, seed),
            progress=lambda seed, rows, name=name: f"# {name} split {seed}: bal acc "
            + ", ".join(f"{r['model']} {r['bal acc']:.4f}" for r in rows), print_fn=print_fn)
        print_fn(f"\n### {DATASETS[name]['title']}: decision rules of one cross-entropy "
                 f"network ({n_splits} splits, mean ± sd)\n")
        for line in bench.split_summary(
                rows, THRESHOLD_METRICS + ["threshold", "epochs"], "[argmax]", fmt=".4f",
                wins=[("bal acc", ">"), ("F1", ">")]):
            print_fn(line)
        same = [r["same network"] for r in rows if "same network" in r]
        print_fn(f"\n[tuned F1] fit = [tuned BA] fit (same probabilities) on "
                 f"{int(sum(same))}/{len(same)} splits")
        all_rows += [dict(r, dataset=name) for r in rows]
    return all_rows


# --------------------------------------------------------------------------------------------
# the class-prior losses of the seed-0 table on repeated splits (issue 15)

LOSS_CACHE = bench.ROOT / "benchmarks" / "results" / "imbalance_losses.json"
#: (label, FairLossClassifier parameters, added to ``_harness.SEED_METHOD_PARAMS``), defaults.
LOSS_MODELS = [("cross_entropy", {}), ("class_balanced", dict(loss="class_balanced")),
               ("aldr_kl", dict(loss="aldr_kl"))] + [
    (loss, dict(loss=loss))
    for loss in ("focal", "ldam_drw", "tversky", "anyloss_f1", "mann_whitney")]


def run_losses(datasets, n_splits, cache_path=LOSS_CACHE, print_fn=print):
    """Per data set and split: cross-entropy and the :data:`LOSS_MODELS` rows at their
    defaults (``_harness.SEED_METHOD_PARAMS``), the metrics of :func:`run_dice`. Prints the
    tables; returns the rows."""
    all_rows = []
    for name in datasets:
        rows = _model_rows(name, n_splits, cache_path, LOSS_MODELS, "bal acc [balanced]",
                           print_fn)
        print_fn(f"\n### {DATASETS[name]['title']}: class-prior losses ({n_splits} splits, "
                 "mean ± sd)\n")
        for line in bench.split_summary(
                rows, DICE_METRICS + ["epochs", "fit s"], "cross_entropy", fmt=".4f",
                wins=[("bal acc [balanced]", ">"), ("bal acc", ">"), ("AP", ">"),
                      ("Brier", "<")]):
            print_fn(line)
        all_rows += [dict(r, dataset=name) for r in rows]
    return all_rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cooldown-splits", type=int, default=0,
                        help="temperature sampling and its cooldown on this many splits "
                             "instead")
    parser.add_argument("--dice-splits", type=int, default=0,
                        help="self-adjusting Dice (default and old alpha) on this many splits "
                             "instead")
    parser.add_argument("--threshold-splits", type=int, default=0,
                        help="the decision rules of one network on this many splits of "
                             "Adult 5 %% instead")
    parser.add_argument("--loss-splits", type=int, default=0,
                        help="class_balanced, aldr_kl, focal, ldam_drw, tversky, anyloss_f1 and "
                             "mann_whitney against cross-entropy on this many splits of "
                             "Adult 5 %% instead")
    parser.add_argument("--budget", choices=list(BUDGETS), default="early stopping",
                        help="training budget of the cooldown rows")
    parser.add_argument("--quick", action="store_true",
                        help="Adult 5 %% only, a handful of options and peers")
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=None)
    parser.add_argument("--seeds", type=int, default=None,
                        help="repeat Adult 5 %% for this many subsample/split seeds "
                             "(default 10; 0 in --quick mode)")
    args = parser.parse_args()
    n_seeds = args.seeds if args.seeds is not None else (0 if args.quick else 10)
    datasets = args.datasets or (["adult5"] if args.quick else list(DATASETS))
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    if args.cooldown_splits:
        run_cooldown(args.datasets or ["compas", "german", "adult5"], args.cooldown_splits,
                     args.budget)
        return
    if args.dice_splits:
        run_dice(args.datasets or ["compas", "german", "adult5"], args.dice_splits)
        return
    if args.threshold_splits:
        run_thresholds(args.datasets or ["adult5"], args.threshold_splits)
        return
    if args.loss_splits:
        run_losses(args.datasets or ["adult5"], args.loss_splits)
        return

    # one untimed fit first, so that torch's start-up cost is not charged to the first row
    rng = np.random.default_rng(0)
    bench.fair_loss(max_epochs=1).fit(rng.normal(size=(256, 4)), np.arange(256) % 2)
    start = time.perf_counter()
    rows = []
    for name in datasets:
        rows += run_dataset(name, quick=args.quick)
    if "adult5" in datasets:
        print(f"\n== Target ({DATASETS['adult5']['title']}, seed 0: the tables above) ==")
        if not args.quick:
            check_target(rows, ISSUE_PEERS)
        check_target(rows)
    if n_seeds > 1:
        means = run_repeats(n_seeds)
        what = f", means over {n_seeds} seeds"
        check_target(means, ISSUE_PEERS, what=what)
        check_target(means, what=what)
    print(f"\nTotal run time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
