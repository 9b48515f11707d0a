"""Benchmark: ``group_report`` versus fairlearn's ``MetricFrame``.

1M rows, 10 groups, 6 metrics (selection rate, accuracy, recall, false-positive rate,
precision, balanced accuracy), by group, overall, difference and ratio, in one run. The two
results are checked to agree to 1e-12 before timing is reported.

Run: ``.venv/bin/python benchmarks/bench_metrics.py [--n-samples 1000000] [--repeat 3]``
"""

import argparse

import _harness as bench
import numpy as np
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate
from sklearn.metrics import accuracy_score, balanced_accuracy_score, precision_score, recall_score

from sklearn_fairloss.metrics import group_report

METRICS = {
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "tpr": recall_score,
    "fpr": false_positive_rate,
    "precision": precision_score,
    "balanced_accuracy": balanced_accuracy_score,
}


def make_data(n, n_groups, seed=0):
    rng = np.random.default_rng(seed)
    groups = rng.choice([f"group_{g}" for g in range(n_groups)], n)
    y_true = rng.integers(0, 2, n)
    y_pred = np.where(rng.random(n) < 0.8, y_true, 1 - y_true)
    return y_true, y_pred, groups


def best_of(fn, repeat):
    """The fastest of ``repeat`` calls of ``fn`` (seconds) and the last call's result."""
    runs = [bench.timed(fn) for _ in range(repeat)]
    return min(seconds for _, seconds in runs), runs[-1][0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    parser.add_argument("--n-groups", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    y_true, y_pred, groups = make_data(args.n_samples, args.n_groups)

    def ours():
        return group_report(y_true, y_pred, sensitive_features=groups, metrics=list(METRICS))

    def theirs():
        mf = MetricFrame(metrics=METRICS, y_true=y_true, y_pred=y_pred,
                         sensitive_features=groups)
        return mf, mf.difference(), mf.ratio()

    t_ours, report = best_of(ours, args.repeat)
    t_theirs, (mf, diff, ratio) = best_of(theirs, args.repeat)
    n = len(mf.by_group)
    names = list(METRICS)
    np.testing.assert_allclose(report.iloc[:n][names].to_numpy(float),
                               mf.by_group.to_numpy(float), atol=1e-12, rtol=0)
    np.testing.assert_allclose(report.loc["overall", names].to_numpy(float),
                               mf.overall.to_numpy(float), atol=1e-12, rtol=0)
    np.testing.assert_allclose(report.loc["difference", names].to_numpy(float),
                               diff.to_numpy(float), atol=1e-12, rtol=0)
    np.testing.assert_allclose(report.loc["ratio", names].to_numpy(float),
                               ratio.to_numpy(float), atol=1e-12, rtol=0)
    print(f"rows={args.n_samples:,} groups={args.n_groups} metrics={len(METRICS)} "
          f"(best of {args.repeat}); results agree to 1e-12")
    print(f"group_report : {t_ours:8.3f} s")
    print(f"MetricFrame  : {t_theirs:8.3f} s")
    print(f"speed-up     : {t_theirs / t_ours:8.1f}x")


if __name__ == "__main__":
    main()
