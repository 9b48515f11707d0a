"""Noise-robust losses under label noise on tabular data (issue 15).

Run: ``.venv/bin/python benchmarks/bench_label_noise.py`` (Adult, COMPAS and German, 5 splits;
hours on 2 shared cores); ``--quick`` runs German and COMPAS (5 splits, every noise setting);
``--datasets`` and ``--splits`` select; ``--train-rows N`` subsamples each split's training
rows to ``N`` (stratified by the clean label, seeded by the split; the test rows stay whole),
used for Adult on 2 shared cores. Results are cached per (data set, training rows, split) in
``benchmarks/results/label_noise.json`` as soon as a split is done; a rerun with the same
arguments refits only the splits the cache lacks (``--no-cache`` refits everything).
``--backbone pre-issue-12`` fits the networks with ``linear_start=False, embedding_scale=1``,
the package's defaults before issue 12, under which the German and COMPAS tables of
``docs/label_noise_benchmark.md`` were measured (``current``, the default: the package's
defaults now, ``linear_start=True, embedding_scale=10``).

Question: GCE (Zhang & Sabuncu 2018), MAE (Ghosh et al. 2017), LDR-KL and ALDR-KL (Zhu et al.
2023) were proposed as losses that stay accurate when training labels are wrong. Do they beat
cross-entropy on tabular data with noisy training labels?

Data: each data set's 70/30 split stratified by the (clean) label, seeds 0..splits-1. Noise is
injected into the *training* labels only, with a generator seeded by the split:

- ``symmetric r``: each training label flipped with probability ``r``;
- ``class-dep. r``: each positive training label flipped to negative with probability ``r``,
  negatives kept (class-conditional, "asymmetric" noise: the positive class shrinks).

The test labels stay clean. ``r`` in {0.2, 0.4}, plus the clean labels (``none``).

Models: ``FairLossClassifier`` with the benchmark settings (``_harness.FAIR_LOSS_PARAMS``, the
estimator's defaults otherwise, early stopping on a held-out 10 % of the *noisy* training
rows) on the raw data frames (the estimator encodes the columns), one row per loss, each with
its paper's default: ``cross_entropy``; ``gce`` (``q=0.7``); ``mae``; ``ldr_kl``
(``lam=1``); ``aldr_kl`` (``lam=1``, ``alpha=2``). Nothing is tuned per data set or noise
level. References a user would pick instead, measured in the same run on the same noisy
labels: ``HistGradientBoostingClassifier()`` and ``LogisticRegression(max_iter=1000)`` on
the standardised / one-hot encoded columns (``_harness.make_preprocessor``).

Columns (clean test split): accuracy, ROC AUC, ECE (15 equal-width bins, top label), each the
mean and sample standard deviation over the splits; ``wins`` counts the splits on which the
row's accuracy is higher than cross-entropy's on the same split.

All libraries run single-threaded (torch, BLAS).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import _harness as bench  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

CACHE = bench.ROOT / "benchmarks" / "results" / "label_noise.json"

#: (label, kind, rate)
NOISE = [("none", "symmetric", 0.0), ("symmetric 0.2", "symmetric", 0.2),
         ("symmetric 0.4", "symmetric", 0.4), ("class-dep. 0.2", "class", 0.2),
         ("class-dep. 0.4", "class", 0.4)]
LOSSES = ["cross_entropy", "gce", "mae", "ldr_kl", "aldr_kl"]
REFERENCES = {
    "HGB": lambda: HistGradientBoostingClassifier(random_state=0),
    "LogReg": lambda: LogisticRegression(max_iter=1000),
}
METRICS = ["accuracy", "ROC AUC", "ECE"]
#: Network settings added to ``_harness.fair_loss`` per ``--backbone``.
BACKBONES = {"current": {}, "pre-issue-12": dict(linear_start=False, embedding_scale=1.0)}


def add_noise(y, kind, rate, seed):
    """The training labels with noise: ``kind`` "symmetric" flips every label with
    probability ``rate``; "class" flips positives (label 1) to 0 with probability ``rate``."""
    y = np.asarray(y).copy()
    if rate == 0:
        return y
    flip = np.random.default_rng(1000 + seed).random(len(y)) < rate
    if kind == "class":
        flip &= y == 1
    y[flip] = 1 - y[flip]
    return y


def load(dataset, seed, train_rows=None):
    """The split ``seed`` of ``dataset``: raw frames ``X_tr``/``X_te`` and the one-hot
    ``X_tr_pre``/``X_te_pre``; ``train_rows``: a stratified subsample of the training rows
    (the preprocessor is fitted on the rows kept)."""
    data = bench.load_split(dataset, seed, features={})
    if train_rows is not None and train_rows < len(data["y_tr"]):
        keep, _ = train_test_split(np.arange(len(data["y_tr"])), train_size=train_rows,
                                   stratify=data["y_tr"], random_state=seed)
        data["X_tr"] = data["X_tr"].iloc[keep]
        data["y_tr"] = data["y_tr"][keep]
        data["S_tr"] = data["S_tr"].iloc[keep].reset_index(drop=True)
    pre = bench.make_preprocessor().fit(data["X_tr"])
    data["X_tr_pre"] = pre.transform(data["X_tr"]).astype(np.float32)
    data["X_te_pre"] = pre.transform(data["X_te"]).astype(np.float32)
    return data


def run_split(dataset, seed, train_rows=None, backbone="current"):
    data = load(dataset, seed, train_rows)
    rows = []
    for noise, kind, rate in NOISE:
        y_noisy = add_noise(data["y_tr"], kind, rate, seed)
        models = [(loss, "net", lambda loss=loss: bench.fair_loss(dataset, loss=loss,
                                                                  **BACKBONES[backbone]))
                  for loss in LOSSES]
        models += [(name, "ref", make) for name, make in REFERENCES.items()]
        for name, family, make in models:
            X_tr, X_te = ((data["X_tr"], data["X_te"]) if family == "net"
                          else (data["X_tr_pre"], data["X_te_pre"]))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model, seconds = bench.timed(
                    lambda make=make, X=X_tr, y=y_noisy: make().fit(X, y))
                proba = model.predict_proba(X_te)
                pred = model.predict(X_te)
            row = bench.evaluate(data["y_te"], pred, proba, METRICS, seconds=seconds)
            rows.append({"dataset": dataset, "noise": noise, "model": name, "seed": seed,
                         "flipped": float(np.mean(y_noisy != data["y_tr"])), **row})
    return rows


def summarise(rows, dataset, n_splits):
    print(f"\n### {dataset} ({n_splits} splits; mean ± sd over splits)\n")
    print("| noise | model | accuracy | ROC AUC | ECE | wins vs CE | fit s |")
    print("|---|---|---|---|---|---|---|")
    for noise, _, _ in NOISE:
        mine = [r for r in rows if r["dataset"] == dataset and r["noise"] == noise]
        ce = {r["seed"]: r["accuracy"] for r in mine if r["model"] == "cross_entropy"}
        for model in LOSSES + list(REFERENCES):
            cells = [r for r in mine if r["model"] == model]
            if not cells:
                continue
            stats = []
            for metric in METRICS:
                values = [r[metric] for r in cells]
                sd = np.std(values, ddof=1) if len(values) > 1 else float("nan")
                stats.append(f"{np.mean(values):.3f} ± {sd:.3f}")
            wins = ("" if model == "cross_entropy" else
                    f"{sum(r['accuracy'] > ce[r['seed']] for r in cells)}/{len(cells)}")
            seconds = np.mean([r["fit s"] for r in cells])
            print(f"| {noise} | {model} | {' | '.join(stats)} | {wins} | {seconds:.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="German and COMPAS, 5 splits, every noise setting")
    parser.add_argument("--datasets", nargs="+", choices=list(bench.LOADERS))
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--train-rows", type=int, default=None,
                        help="subsample each split's training rows to this many")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--backbone", choices=list(BACKBONES), default="current")
    args = parser.parse_args()
    datasets = args.datasets or (["german", "compas"] if args.quick
                                 else ["german", "compas", "adult"])
    torch.set_num_threads(1)
    start = time.perf_counter()
    rows = []
    for dataset in datasets:
        for seed in range(args.splits):
            key = f"{dataset}|{args.train_rows or 'all'}|{seed}"
            if args.backbone != "current":
                key += f"|{args.backbone}"
            if args.no_cache:
                split_rows, computed = run_split(dataset, seed, args.train_rows,
                                                 args.backbone), True
            else:
                split_rows, computed = bench.cached_rows(
                    CACHE, key, lambda _, dataset=dataset, seed=seed: run_split(
                        dataset, seed, args.train_rows, args.backbone))
            rows += split_rows
            if not computed:
                continue
            print(f"# {dataset} split {seed} done ({time.perf_counter() - start:.0f} s)",
                  flush=True)
        if args.train_rows:
            print(f"\n{dataset}: training rows subsampled to {args.train_rows} per split")
        summarise(rows, dataset, args.splits)
    print(f"\nTotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
