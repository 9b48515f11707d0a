"""Seconds per training epoch on Adult: FairLossClassifier vs plain skorch, a hand-written
PyTorch loop and scikit-learn's MLPClassifier, all measured in this run.

Run: ``.venv/bin/python benchmarks/bench_training_speed.py`` (``--quick`` for a short run).
Prints seconds per epoch and the ratios to the hand-written loop, and the predict_proba
throughput on 100k rows. Targets (issue 2): FairLossClassifier <= 1.25x the hand-written loop
at batch 256 and 1024, and no slower than MLPClassifier at batch 1024.
"""

import argparse
import warnings

import _harness as bench
import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from skorch import NeuralNetClassifier
from threadpoolctl import threadpool_limits
from torch import nn

from sklearn_fairloss import FairLossClassifier


def adult_one_hot():
    """The preprocessed training rows of the standard Adult split (seed 0)."""
    data = bench.load_split("adult")
    X_train = np.ascontiguousarray(data["X_tr"], dtype=np.float32)  # writable, C order
    return X_train, np.array(data["y_tr"], dtype=np.int64)  # a writable copy


def mlp(n_features):
    return nn.Sequential(nn.Linear(n_features, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 2))


def hand_loop(X, y, batch_size, epochs):
    """The loop a PyTorch user writes: tensors in memory, shuffled index slices, Adam."""
    torch.manual_seed(0)
    model = mlp(X.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    loss_fn = nn.CrossEntropyLoss()

    def train():
        for _ in range(epochs):
            perm = torch.randperm(len(yt))
            for idx in perm.split(batch_size):
                opt.zero_grad()
                loss = loss_fn(model(Xt[idx]), yt[idx])
                loss.backward()
                opt.step()

    return bench.timed(train)[1] / epochs


class _Module(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.net = mlp(n_features)

    def forward(self, X):
        return self.net(X)


def plain_skorch(X, y, batch_size, epochs):
    torch.manual_seed(0)
    net = NeuralNetClassifier(_Module, module__n_features=X.shape[1], criterion=nn.CrossEntropyLoss,
                              optimizer=torch.optim.Adam, lr=1e-3, batch_size=batch_size,
                              max_epochs=epochs, train_split=None, verbose=0,
                              iterator_train__shuffle=True)
    net.fit(X, y)
    return float(np.mean(net.history[:, "dur"]))


def ours(X, y, batch_size, epochs):
    clf = FairLossClassifier(hidden_layer_sizes=(64, 64), batch_size=batch_size, max_epochs=epochs,
                             tol=0.0, n_iter_no_change=epochs, device="cpu", random_state=0)
    clf.fit(X, y)
    return float(clf.history_["dur"].mean()), clf


def sklearn_mlp(X, y, batch_size, epochs):
    clf = MLPClassifier(hidden_layer_sizes=(64, 64), batch_size=batch_size, max_iter=epochs,
                        n_iter_no_change=epochs, tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf, seconds = bench.timed(lambda: clf.fit(X, y))
    return seconds / clf.n_iter_


#: Seconds per epoch by contender, then the ratios.
TABLE = bench.Table(
    bench.Column("batch", 6, "d"), bench.Column("hand", 10, ".3f", "hand loop"),
    bench.Column("ours", 10, ".3f", "FairLoss"), bench.Column("skorch", 10, ".3f"),
    bench.Column("mlp", 10, ".3f", "MLPClf"), bench.Column("ours/hand", 14, ".2f", "FairLoss/hand"),
    bench.Column("skorch/hand", 12, ".2f"), bench.Column("ours/mlp", 16, ".2f", "FairLoss/MLPClf"))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2 epochs, 1 repeat")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch and BLAS threads for every contender (default 1: stable "
                             "timings on a shared machine)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    epochs, repeats = (2, 1) if args.quick else (args.epochs, args.repeats)
    X, y = adult_one_hot()
    print(f"Adult one-hot: {X.shape[0]} training rows, {X.shape[1]} features, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, MLP 64-64, Adam")
    print(f"seconds per epoch (median of {repeats} runs of {epochs} epochs)")
    print(TABLE.header())
    clf = None
    for batch_size in (256, 1024):
        times = {"hand": [], "ours": [], "skorch": [], "mlp": []}
        for _ in range(repeats):  # interleave the contenders so machine noise hits all alike
            times["hand"].append(hand_loop(X, y, batch_size, epochs))
            t, clf = ours(X, y, batch_size, epochs)
            times["ours"].append(t)
            times["skorch"].append(plain_skorch(X, y, batch_size, epochs))
            times["mlp"].append(sklearn_mlp(X, y, batch_size, epochs))
        med = {k: float(np.median(v)) for k, v in times.items()}
        print(TABLE.row({"batch": batch_size, **med, "ours/hand": med["ours"] / med["hand"],
                         "skorch/hand": med["skorch"] / med["hand"],
                         "ours/mlp": med["ours"] / med["mlp"]}))

    X_big = np.tile(X, (int(np.ceil(100_000 / len(X))), 1))[:100_000]
    clf.predict_proba(X_big[:1000])
    seconds = bench.timed(lambda: clf.predict_proba(X_big))[1]
    print(f"predict_proba: {100_000 / seconds:,.0f} rows per second on 100,000 rows")


if __name__ == "__main__":
    main()
