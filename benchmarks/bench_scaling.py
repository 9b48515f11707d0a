"""The cost curve (issue 17): seconds per epoch, peak memory and prediction throughput at
1e5, 1e6 and 1e7 rows x 50 features, for FairLossClassifier (plain, with a demographic
parity penalty, with distance covariance; with its default network and with
``numerical_embedding=None``), MLPClassifier and HistGradientBoostingClassifier. At 1e7 rows
the default network (periodic embeddings of all 50 columns, about 20x an MLP epoch) is not
run: the network without embeddings carries the curve and the penalties there.

Run (from the repository root; one thread, as the numbers in docs/user_guide/performance.md)::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_scaling.py

``--quick``: 1e5 rows only. Every (model, size) runs in its own process, so that its peak
resident memory (``ru_maxrss``) is its own; results are cached in
``benchmarks/results/scaling.json`` (``--force`` reruns). The data are synthetic float32 rows,
generated in the run: 50 standard normal features, a binary protected group that shifts two
of them, and labels from a logistic model with an interaction.

How each number is measured:

- ``s/epoch``: FairLossClassifier, the mean of skorch's per-epoch timer (``history_["dur"]``:
  the optimizer steps over all rows); MLPClassifier, the fit's seconds / ``n_iter_``
  (input validation and its float64 copy included); HistGradientBoostingClassifier, the fit's
  seconds / ``n_iter_`` (binning included, spread over the iterations). ``setup s``: for
  FairLossClassifier, the fit's seconds outside the epochs (validation, quantile scaling, the
  linear start, post-processing).
- ``peak GB``: the process's peak resident memory during the fit less the memory it held
  before the fit (the data included), in GB and in units of ``X`` (``x X``).
- ``rows/s``: ``predict_proba`` on the first 200,000 training rows (all of them at 1e5),
  rows per second.
- ``copies``: for FairLossClassifier(numerical_embedding=None) at 1e6 rows (the data path of
  every FairLossClassifier), numpy's traced allocations (``tracemalloc``) during ``fit``: the
  peak and what stays allocated after it, in units of X.

Targets: seconds per epoch linear in rows (the ratio of s/epoch per row between sizes within
1.5x); the penalties within 1.3x of the plain loss at every size; the fit copies ``X`` at most
once.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "scaling.json"
SIZES = (100_000, 1_000_000, 10_000_000)
N_FEATURES = 50
MODELS = ("fairloss", "fairloss_dp", "fairloss_dcov", "fairloss_noemb", "fairloss_noemb_dp",
          "fairloss_noemb_dcov", "mlp", "hgb")
#: Models measured at 1e7 rows: the default network's periodic embeddings of 50 numeric
#: columns cost about 20x an MLP epoch (see the 1e5 and 1e6 rows), beyond this machine's
#: budget at 1e7; the network without embeddings carries the curve and the penalties there.
MODELS_1E7 = ("fairloss_noemb", "mlp", "hgb", "fairloss_noemb_dp", "fairloss_noemb_dcov")
#: predict_proba throughput is measured on the first rows (it does not depend on n).
PREDICT_ROWS = 200_000
#: Epochs (iterations for HGB) at each size: small at 1e7 rows.
EPOCHS = {100_000: 3, 1_000_000: 2, 10_000_000: 1}
HGB_ITER = {100_000: 20, 1_000_000: 10, 10_000_000: 5}


def make_data(n, seed=0):
    """Synthetic float32 rows: features, labels and a binary protected group."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_FEATURES), dtype=np.float32)
    group = (rng.random(n) < 0.4).astype(np.int8)
    X[:, 0] += group
    X[:, 1] -= 0.5 * group
    logit = X[:, 0] + 0.5 * X[:, 1] - 0.5 * X[:, 2] + 0.5 * X[:, 3] * X[:, 4]
    y = (logit + rng.logistic(size=n).astype(np.float32) > 0).astype(np.int64)
    return X, y, group


def build(model, n):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.neural_network import MLPClassifier

    from sklearn_fairloss import FairLossClassifier
    from sklearn_fairloss.fairness import DemographicParity, DistanceCovariance

    epochs = EPOCHS[n]
    common = dict(max_epochs=epochs, early_stopping=False, random_state=0)
    if model.startswith("fairloss_noemb"):
        common["numerical_embedding"] = None
    if model.startswith("fairloss"):
        fairness = {"dp": DemographicParity(), "dcov": DistanceCovariance()}.get(
            model.rsplit("_", 1)[-1])
        return FairLossClassifier(fairness=fairness, **common)
    if model == "mlp":
        return MLPClassifier(hidden_layer_sizes=(64, 64), batch_size=1024, max_iter=epochs,
                             early_stopping=False, n_iter_no_change=epochs + 1,
                             random_state=0)
    return HistGradientBoostingClassifier(max_iter=HGB_ITER[n], early_stopping=False,
                                          random_state=0)


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run_one(model, n, trace):
    """Measure one (model, size) in this process; returns a dict."""
    import torch

    torch.set_num_threads(1)
    from sklearn.exceptions import ConvergenceWarning

    X, y, group = make_data(n)
    warm = build(model, 100_000)  # load every library before the baseline
    warm.set_params(**({"max_iter": 1} if model in ("mlp", "hgb") else {"max_epochs": 1}))
    penalised = model.endswith(("_dp", "_dcov"))
    kwargs = {"sensitive_features": group[:2000]} if penalised else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm.fit(X[:2000], y[:2000], **kwargs)
    del warm
    est = build(model, n)
    kwargs = {"sensitive_features": group} if penalised else {}
    if trace:
        import tracemalloc

        tracemalloc.start()
    base = rss()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, **kwargs)
    fit_s = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out = {"model": model, "n": n, "fit_s": fit_s, "peak_gb": (peak - base) / 1e9,
           "peak_x": (peak - base) / X.nbytes, "after_fit_gb": (rss() - base) / 1e9}
    if trace:
        current, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out.update(traced_peak_x=traced_peak / X.nbytes, traced_after_x=current / X.nbytes)
    if model.startswith("fairloss"):
        dur = est.history_["dur"].to_numpy()
        out.update(epochs=len(dur), s_epoch=float(dur.mean()), setup_s=fit_s - float(dur.sum()))
    else:
        out.update(epochs=int(est.n_iter_), s_epoch=fit_s / est.n_iter_, setup_s=None)
    rows = X[:PREDICT_ROWS]
    start = time.perf_counter()
    est.predict_proba(rows)
    out["predict_rows_s"] = len(rows) / (time.perf_counter() - start)
    out["threads"] = torch.get_num_threads()
    return out


def run_overhead(n, rounds=3):
    """The demographic parity penalty's overhead, robust to the machine's load: plain and
    penalised fits of one epoch (network without embeddings) alternate ``rounds`` times in
    this process, and the fastest epoch of each is compared."""
    import torch

    from sklearn_fairloss import FairLossClassifier
    from sklearn_fairloss.fairness import DemographicParity

    torch.set_num_threads(1)
    X, y, group = make_data(n)
    best = {"plain": np.inf, "dp": np.inf}
    for _ in range(rounds):
        for name, fairness in (("plain", None), ("dp", DemographicParity())):
            clf = FairLossClassifier(numerical_embedding=None, fairness=fairness, max_epochs=1,
                                     early_stopping=False, random_state=0)
            clf.fit(X, y, sensitive_features=group if fairness is not None else None)
            best[name] = min(best[name], float(clf.history_["dur"].iloc[0]))
    return {"n": n, "rounds": rounds, "plain_s": best["plain"], "dp_s": best["dp"],
            "ratio": best["dp"] / best["plain"]}


def load():
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": {}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1e5 rows only")
    parser.add_argument("--force", action="store_true", help="rerun cached measurements")
    parser.add_argument("--overhead", action="store_true",
                        help="the DP penalty's overhead, plain and penalised fits alternating "
                             "(1e5 and 1e6 rows)")
    parser.add_argument("--markdown", action="store_true",
                        help="print the cached results as the docs' Markdown table")
    parser.add_argument("--one", nargs=3, metavar=("MODEL", "N", "TRACE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.markdown:
        markdown(load()["runs"])
        return
    if args.overhead:
        results = load()
        results.setdefault("overhead", {})
        for n in SIZES[:2]:
            if str(n) not in results["overhead"] or args.force:
                print(f"running overhead {n} ...", flush=True)
                results["overhead"][str(n)] = run_overhead(n)
                RESULTS.write_text(json.dumps(results, indent=1))
        for r in results["overhead"].values():
            print(f"DemographicParity at {r['n']:.0e} rows: fastest of {r['rounds']} epochs "
                  f"{r['dp_s']:.2f} s against {r['plain_s']:.2f} s plain: {r['ratio']:.2f}x")
        return
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), args.one[2] == "1")))
        return
    results = load()
    sizes = SIZES[:1] if args.quick else SIZES
    jobs = [(m, n, False) for n in sizes[:2] for m in MODELS]
    if not args.quick:
        jobs.append(("fairloss_noemb", 1_000_000, True))
        jobs += [(m, SIZES[2], False) for m in MODELS_1E7]
    for model, n, trace in jobs:
        key = f"{model}/{n}" + ("/trace" if trace else "")
        if key in results["runs"] and not args.force:
            continue
        print(f"running {key} ...", flush=True)
        done = subprocess.run([sys.executable, __file__, "--one", model, str(n),
                               "1" if trace else "0"], capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"{key} failed")
        results["runs"][key] = json.loads(done.stdout.strip().splitlines()[-1])
        results["command"] = ("OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 10 "
                              ".venv/bin/python benchmarks/bench_scaling.py")
        results["machine"] = f"{os.cpu_count()} cores (shared), one torch/BLAS thread, CPU only"
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1))
    report(results["runs"])


def report(runs):
    print(f"{'model':<19} {'rows':>9} {'s/epoch':>8} {'us/row':>7} {'setup s':>8} "
          f"{'peak GB':>8} {'x X':>5} {'rows/s':>10}")
    for key, r in runs.items():
        if key.endswith("/trace"):
            continue
        setup = "" if r["setup_s"] is None else f"{r['setup_s']:.1f}"
        print(f"{r['model']:<19} {r['n']:>9} {r['s_epoch']:>8.2f} "
              f"{1e6 * r['s_epoch'] / r['n']:>7.2f} {setup:>8} {r['peak_gb']:>8.2f} "
              f"{r['peak_x']:>5.2f} {r['predict_rows_s']:>10.0f}")
    sizes = sorted({r["n"] for r in runs.values()})
    print("\npenalty overhead (s/epoch over the plain loss's):")
    for n in sizes:
        for base, model in [("fairloss", m) for m in ("fairloss_dp", "fairloss_dcov")] + [
                ("fairloss_noemb", m) for m in ("fairloss_noemb_dp", "fairloss_noemb_dcov")]:
            plain, r = runs.get(f"{base}/{n}"), runs.get(f"{model}/{n}")
            if plain and r:
                ratio = r["s_epoch"] / plain["s_epoch"]
                verdict = "meets" if ratio <= 1.3 else "misses"
                print(f"  {model:<19} {n:>9}: {ratio:.2f}x  ({verdict}"
                      " the 1.3x target)")
    print("\nlinearity (s/epoch per row relative to the smallest size):")
    for model in MODELS:
        have = [runs[f"{model}/{n}"] for n in sizes if f"{model}/{n}" in runs]
        if len(have) > 1:
            per_row = [r["s_epoch"] / r["n"] for r in have]
            print(f"  {model:<19} " + "  ".join(f"{r['n']:.0e}: {p / per_row[0]:.2f}"
                                                for r, p in zip(have, per_row)))
    trace = runs.get("fairloss_noemb/1000000/trace")
    if trace:
        print("\nFairLossClassifier(numerical_embedding=None) fit at 1e6 rows, numpy's traced "
              f"allocations: peak {trace['traced_peak_x']:.2f} X, after fit "
              f"{trace['traced_after_x']:.3f} X")


NAMES = {"fairloss": "FairLossClassifier()", "fairloss_dp": "+ DemographicParity()",
         "fairloss_dcov": "+ DistanceCovariance()",
         "fairloss_noemb": "FairLossClassifier(numerical_embedding=None)",
         "fairloss_noemb_dp": "+ DemographicParity()",
         "fairloss_noemb_dcov": "+ DistanceCovariance()",
         "mlp": "MLPClassifier((64, 64), batch 1024)", "hgb": "HistGradientBoostingClassifier"}


def markdown(runs):
    """The cached results as the Markdown table of docs/user_guide/performance.md."""
    print("| model | rows | s/epoch | µs/row | × plain | setup s | peak GB | peak / X | "
          "predict rows/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model in MODELS:
        for n in SIZES:
            r = runs.get(f"{model}/{n}")
            if r is None:
                continue
            base = {"fairloss_dp": "fairloss", "fairloss_dcov": "fairloss",
                    "fairloss_noemb_dp": "fairloss_noemb",
                    "fairloss_noemb_dcov": "fairloss_noemb"}.get(model)
            plain = runs.get(f"{base}/{n}") if base else None
            ratio = f"{r['s_epoch'] / plain['s_epoch']:.2f}" if plain else ""
            setup = "" if r["setup_s"] is None else f"{r['setup_s']:.1f}"
            print(f"| {NAMES[model]} | {n:.0e} | {r['s_epoch']:.2f} | "
                  f"{1e6 * r['s_epoch'] / n:.2f} | {ratio} | {setup} | {r['peak_gb']:.2f} | "
                  f"{r['peak_x']:.2f} | {r['predict_rows_s']:,.0f} |")


if __name__ == "__main__":
    main()
