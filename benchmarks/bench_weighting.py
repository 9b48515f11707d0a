"""Sample-weight strategies on Adult (sex) and COMPAS (race): DP difference and accuracy.

Run: ``.venv/bin/python benchmarks/bench_weighting.py``. For each dataset (70/30 stratified
split, seed 0) it fits LogisticRegression, HistGradientBoostingClassifier (both through
``WeightedClassifier``) and FairLossClassifier (``sample_weight_strategy=``), without weights
and with each strategy, and prints accuracy, demographic parity difference (between groups),
ROC AUC and fit seconds. Reference: AIF360's documented Adult reweighing example moves the
statistical parity difference from -0.36 to -0.09.

``--splits N`` (issue 15): instead, on N splits (seeds 0..N-1) of each data set, no weights,
``Reweighing`` as weights, the same weights reached by resampling (``WeightedResampler``,
upsampling), ``Reweighing() * ClassBalanced()`` (``ProductWeighting``), and
``GroupBalanced(by="group_class")``, ``ClassBalanced()`` and
``TemperatureSampling(tau=3, by="group")`` as weights, for
LogisticRegression and FairLossClassifier (``_harness.SEED_METHOD_PARAMS``); results cached in
``benchmarks/results/weighting.json``.
"""

import argparse

import _harness as bench
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_fairloss.weighting import (
    ClassBalanced,
    GroupBalanced,
    Reweighing,
    TemperatureSampling,
    WeightedClassifier,
    WeightedResampler,
)

STRATEGIES = {
    "none": None,
    "Reweighing": Reweighing(),
    "GroupBalanced(group_class)": GroupBalanced(by="group_class"),
    "ClassBalanced": ClassBalanced(),
    "TemperatureSampling(tau=3, group)": TemperatureSampling(tau=3.0, by="group"),
}


def models(strategy):
    def wrap(estimator):
        return estimator if strategy is None else WeightedClassifier(estimator, strategy)

    return {
        "LogisticRegression": wrap(LogisticRegression(max_iter=1000)),
        "HistGradientBoosting": wrap(HistGradientBoostingClassifier(random_state=0)),
        "FairLossClassifier": bench.fair_loss(sample_weight_strategy=strategy),
    }


TABLE = bench.Table(bench.text_column("model", 22), bench.text_column("strategy", 34),
                    "accuracy", "DP diff", "ROC AUC", bench.Column("fit s", 6, ".1f"))


def run(name, dataset, attribute):
    # The raw frames: the preprocessor is the first step of each pipeline.
    data = bench.load_split(dataset, features={})
    A_tr, A_te = (data[k][attribute].astype(str).to_numpy() for k in ("S_tr", "S_te"))
    print(f"\n{name} ({attribute}): {len(data['y_tr'])} training rows, groups "
          f"{sorted(set(A_tr) | set(A_te))}")
    print(TABLE.header())
    rows = []
    for label, strategy in STRATEGIES.items():
        for model_name, model in models(strategy).items():
            pipe = make_pipeline(bench.make_preprocessor(), model)
            step = pipe.steps[-1][0]
            params = {} if strategy is None else {f"{step}__sensitive_features": A_tr}
            pred, proba, seconds = bench.fit_predict(pipe, data, fit_params=params)
            metrics = bench.evaluate(data["y_te"], pred, proba, ["accuracy", "DP diff", "ROC AUC"],
                                     seconds, sensitive_features=A_te)
            row = dict(dataset=name, model=model_name, strategy=label, **metrics)
            rows.append(row)
            print(TABLE.row(row))
    return rows


CACHE = bench.ROOT / "benchmarks" / "results" / "weighting.json"
#: (label, strategy, how): the weights reach training as ``sample_weight`` ("weights") or by
#: drawing the training rows (``WeightedResampler``, "resample").
REPEATED = [("none", None, "weights"), ("Reweighing", Reweighing(), "weights"),
            ("Reweighing, resampled", Reweighing(), "resample"),
            ("Reweighing * ClassBalanced", Reweighing() * ClassBalanced(), "weights")] + [
    (label, STRATEGIES[label], "weights")
    for label in ("GroupBalanced(group_class)", "ClassBalanced",
                  "TemperatureSampling(tau=3, group)")]
REPEATED_METRICS = ["accuracy", "bal acc", "DP diff", "ROC AUC"]


def repeated_split(dataset, attribute, seed, cached=()):
    """The rows of one split of :func:`run_repeated`; ``cached`` rows kept, missing ones
    fitted."""
    data = bench.load_split(dataset, seed)
    A_tr, A_te = (data[k][attribute].astype(str).to_numpy() for k in ("S_tr", "S_te"))
    done = {r["model"]: r for r in cached}
    rows = []
    for label, strategy, how in REPEATED:
        if all(f"{m}: {label}" in done for m in ("LogisticRegression", "FairLossClassifier")):
            rows += [done[f"{m}: {label}"] for m in ("LogisticRegression", "FairLossClassifier")]
            continue
        X, y, weight = data["X_tr"], data["y_tr"], None
        if strategy is not None and how == "resample":
            X, y = WeightedResampler(strategy, random_state=seed).fit_resample(
                X, y, sensitive_features=A_tr)
        elif strategy is not None:
            weight = strategy.fit_compute(y, A_tr)
        for model_name, model in (
                ("LogisticRegression", LogisticRegression(max_iter=1000)),
                ("FairLossClassifier", bench.fair_loss(dataset, **bench.SEED_METHOD_PARAMS))):
            model, seconds = bench.timed(
                lambda m=model, X=X, y=y, w=weight: m.fit(X, y, sample_weight=w))
            proba = model.predict_proba(data["X_te"])
            rows.append({"model": f"{model_name}: {label}", "seed": seed,
                         **bench.evaluate(data["y_te"], proba.argmax(axis=1), proba,
                                          REPEATED_METRICS, seconds, sensitive_features=A_te)})
    return rows


def run_repeated(n_splits):
    """Adult (sex) and COMPAS (race), ``n_splits`` splits; prints one table each."""
    for name, dataset, attribute in (("Adult", "adult", "sex"), ("COMPAS", "compas", "race")):
        rows = []
        for seed in range(n_splits):
            split_rows, computed = bench.cached_rows(
                CACHE, f"{dataset}|{seed}",
                lambda cached, dataset=dataset, attribute=attribute, seed=seed: repeated_split(
                    dataset, attribute, seed, cached),
                complete=lambda rows: len(rows) == 2 * len(REPEATED))
            if computed:
                print(f"# {name} split {seed} done", flush=True)
            rows += split_rows
        for model_name in ("LogisticRegression", "FairLossClassifier"):
            mine = [r for r in rows if r["model"].startswith(model_name)]
            print(f"\n### {name} ({attribute}), {model_name} ({n_splits} splits, mean ± sd)\n")
            for line in bench.split_summary(mine, REPEATED_METRICS + ["fit s"],
                                            f"{model_name}: none",
                                            wins=[("DP diff", "<"), ("accuracy", ">"),
                                                  ("bal acc", ">")]):
                print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=0,
                        help="the repeated-split comparison on this many splits instead")
    args = parser.parse_args()
    np.set_printoptions(precision=4)
    if args.splits:
        import torch

        torch.set_num_threads(1)
        run_repeated(args.splits)
        return
    run("Adult", "adult", "sex")
    run("COMPAS", "compas", "race")


if __name__ == "__main__":
    main()
