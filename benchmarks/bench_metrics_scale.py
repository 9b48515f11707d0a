"""Metrics beyond memory: ``group_report`` and ECE on 1e6 to 1e8 rows (issue 17).

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_metrics_scale.py`` (about 40 minutes on
2 cores; ``--quick`` for 1e5 and 1e6 rows, 2 runs each, in a minute, written to
``metrics_scale_quick.json``). Results are cached per run in
``benchmarks/results/metrics_scale.json``: a rerun resumes, ``--fresh`` starts over.

Data, generated in the run: partitions of 1e6 rows (fewer, smaller ones below 4e6 rows),
partition ``i`` drawn from seed ``i``: a group of four (``a``..``d``, shares 0.4, 0.3, 0.2, 0.1;
a pandas categorical), a label ``y`` (int8, positive rate 0.2 + 0.1 x group code), a
probability ``y_prob`` (float32) and ``y_pred = y_prob >= 0.5`` (int8). The Dask runs build a
``dask.dataframe`` from the generator (``from_map``), so no more than the partitions being
worked on are ever in memory; the in-memory runs concatenate the same partitions first.

Methods (each run in a fresh process, so that its peak RSS is its own):

- ``dask group_report``: :func:`~sklearn_fairloss.metrics.group_report` of the Dask columns,
  metrics selection rate, accuracy, TPR, FPR, precision, Brier score and ECE (15 bins), by
  group, overall, difference and ratio: one pass over the partitions.
- ``dask ECE``: :func:`~sklearn_fairloss.metrics.expected_calibration_error` of the Dask
  columns (overall, 15 bins, top label).
- ``memory group_report``: the same report of the same rows held in memory (pandas).
- ``fairlearn MetricFrame``: fairlearn's ``MetricFrame`` of the five label metrics (it has no
  ECE or Brier score), ``by_group``, ``overall``, ``difference()`` and ``ratio()``, rows in
  memory.

Dask runs use the threaded scheduler with 2 workers (``dask.config.set(scheduler="threads",
num_workers=2)``), so the process's peak RSS (``resource.getrusage``) covers the workers.
``seconds`` is the metric call alone (for the in-memory methods, the data are built first and
not timed; their peak RSS includes them). ``base MB`` is the peak RSS after imports, before any
data. The Dask and in-memory reports are checked to agree to 1e-12 where both ran. 5 runs per
method and size, except fairlearn at 1e7 rows (2 runs of about 6 minutes each).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
GROUPS = np.array(["a", "b", "c", "d"])
PARTITION_ROWS = 1_000_000
METRICS = ["selection_rate", "accuracy", "tpr", "fpr", "precision", "brier",
           "expected_calibration_error"]
LABEL_METRICS = METRICS[:5]
METHODS = ["dask group_report", "dask ECE", "memory group_report", "fairlearn MetricFrame"]
# sizes each method runs at (the in-memory ones where 2 cores and 24 GB hold them in time)
SIZES = {"dask group_report": [10**6, 10**7, 10**8], "dask ECE": [10**6, 10**7, 10**8],
         "memory group_report": [10**6, 10**7], "fairlearn MetricFrame": [10**6, 10**7]}
QUICK_SIZES = [10**5, 10**6]
# fairlearn takes about 6 minutes a run at 1e7 rows on this machine: 2 runs, not 5
RUNS = {("fairlearn MetricFrame", 10**7): 2}


def make_partition(seed, rows):
    """One partition of the synthetic prediction log."""
    rng = np.random.default_rng(seed)
    group = rng.choice(4, rows, p=[0.4, 0.3, 0.2, 0.1]).astype(np.int8)
    y = (rng.random(rows) < 0.2 + 0.1 * group).astype(np.int8)
    noise = rng.standard_normal(rows, dtype=np.float32)
    prob = np.clip(0.25 + 0.4 * y + 0.15 * noise + 0.03 * group, 0.0, 1.0).astype(np.float32)
    return pd.DataFrame({"y": y, "y_pred": (prob >= 0.5).astype(np.int8), "y_prob": prob,
                         "group": pd.Categorical.from_codes(group, GROUPS)})


def partitions(size):
    """(number of partitions, rows per partition) of ``size`` rows."""
    n_parts = max(size // PARTITION_ROWS, 4)
    return n_parts, size // n_parts


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def run_one(method, size):
    """One timed run in this process; returns the result record."""
    from sklearn_fairloss.metrics import expected_calibration_error, group_report

    base = peak_mb()
    n_parts, rows = partitions(size)
    if method.startswith("dask"):
        import dask
        import dask.dataframe as dd

        frame = dd.from_map(make_partition, range(n_parts), [rows] * n_parts,
                            meta=make_partition(0, 1).iloc[:0])
    else:
        frame = pd.concat([make_partition(i, rows) for i in range(n_parts)],
                          ignore_index=True)
    start = time.perf_counter()
    if method == "dask group_report":
        with dask.config.set(scheduler="threads", num_workers=2):
            report = group_report(frame["y"], frame["y_pred"], y_proba=frame["y_prob"],
                                  sensitive_features=frame["group"], metrics=METRICS)
    elif method == "dask ECE":
        with dask.config.set(scheduler="threads", num_workers=2):
            ece = expected_calibration_error(frame["y"], frame["y_prob"])
    elif method == "memory group_report":
        report = group_report(frame["y"], frame["y_pred"], y_proba=frame["y_prob"],
                              sensitive_features=frame["group"], metrics=METRICS)
    else:
        from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate
        from sklearn.metrics import accuracy_score, precision_score, recall_score

        mf = MetricFrame(
            metrics={"selection_rate": selection_rate, "accuracy": accuracy_score,
                     "tpr": recall_score, "fpr": false_positive_rate,
                     "precision": precision_score},
            y_true=frame["y"], y_pred=frame["y_pred"], sensitive_features=frame["group"])
        report = pd.concat([mf.by_group, mf.overall.to_frame("overall").T,
                            mf.difference().to_frame("difference").T,
                            mf.ratio().to_frame("ratio").T])
    seconds = time.perf_counter() - start
    record = {"method": method, "size": size, "partitions": n_parts, "seconds": seconds,
              "peak_rss_mb": peak_mb(), "base_rss_mb": base}
    if method == "dask ECE":
        record["ece"] = ece
    else:
        columns = METRICS if method != "fairlearn MetricFrame" else LABEL_METRICS
        record["values"] = report[columns].to_numpy().tolist()
        record["ece"] = None if "expected_calibration_error" not in report else float(
            report.loc["overall", "expected_calibration_error"])
    return record


def load(path):
    return json.loads(path.read_text()) if path.exists() else {"runs": []}


def run_in_subprocess(method, size):
    out = subprocess.run([sys.executable, __file__, "--one", method, str(size)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def summarise(runs):
    """Mean and sd of seconds and peak RSS per (method, size); the checks of agreement."""
    table = {}
    for r in runs:
        table.setdefault((r["method"], r["size"]), []).append(r)
    rows = []
    for (method, size), group in sorted(table.items(), key=lambda kv: (kv[0][1],
                                                                       METHODS.index(kv[0][0]))):
        sec = np.array([r["seconds"] for r in group])
        rss = np.array([r["peak_rss_mb"] for r in group])
        rows.append({"method": method, "size": size, "runs": len(group),
                     "seconds_mean": sec.mean(), "seconds_sd": sec.std(ddof=1) if
                     len(sec) > 1 else 0.0, "peak_rss_mb_mean": rss.mean(),
                     "peak_rss_mb_sd": rss.std(ddof=1) if len(rss) > 1 else 0.0,
                     "base_rss_mb": float(np.mean([r["base_rss_mb"] for r in group])),
                     "rows_per_second": size / sec.mean()})
    checks = []
    for size in sorted({s for _, s in table}):
        dask_runs = table.get(("dask group_report", size))
        for other in ("memory group_report", "fairlearn MetricFrame"):
            mem = table.get((other, size))
            if dask_runs and mem:
                a = np.array(dask_runs[0]["values"], dtype=float)
                b = np.array(mem[0]["values"], dtype=float)
                if other == "fairlearn MetricFrame":
                    a = a[:, :len(LABEL_METRICS)]
                checks.append({"size": size, "against": other,
                               "max_abs_difference": float(np.nanmax(np.abs(a - b)))})
        ece_runs = table.get(("dask ECE", size))
        if dask_runs and ece_runs:
            checks.append({"size": size, "against": "dask ECE (overall ECE of the report)",
                           "max_abs_difference": abs(dask_runs[0]["ece"] - ece_runs[0]["ece"])})
    return rows, checks


def print_table(rows, checks):
    print(f"{'rows':>6} {'method':<22} {'runs':>4} {'seconds':>16} {'Mrows/s':>8} "
          f"{'peak RSS MB':>16} {'base MB':>8}")
    for r in rows:
        print(f"{r['size']:>6.0e} {r['method']:<22} {r['runs']:>4} "
              f"{r['seconds_mean']:>8.2f} ± {r['seconds_sd']:<5.2f} "
              f"{r['rows_per_second'] / 1e6:>8.2f} "
              f"{r['peak_rss_mb_mean']:>8.0f} ± {r['peak_rss_mb_sd']:<5.0f} "
              f"{r['base_rss_mb']:>8.0f}")
    for c in checks:
        print(f"check {c['size']:.0e}: dask group_report vs {c['against']}: "
              f"max |difference| {c['max_abs_difference']:.1e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e5 and 1e6 rows, 2 runs")
    parser.add_argument("--repeats", type=int, default=None, help="runs per size (5)")
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    parser.add_argument("--max-size", type=float, default=None, help="skip larger sizes")
    parser.add_argument("--fresh", action="store_true", help="ignore cached runs")
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]))))
        return
    repeats = args.repeats or (2 if args.quick else 5)
    path = RESULTS / ("metrics_scale_quick.json" if args.quick else "metrics_scale.json")
    data = {"runs": []} if args.fresh else load(path)
    for method in args.methods:
        for size in (QUICK_SIZES if args.quick else SIZES[method]):
            if args.max_size and size > args.max_size:
                continue
            done = sum(r["method"] == method and r["size"] == size for r in data["runs"])
            wanted = repeats if args.quick or args.repeats else RUNS.get((method, size), repeats)
            for _ in range(done, wanted):
                record = run_in_subprocess(method, size)
                print(f"{method} {size:.0e}: {record['seconds']:.2f} s, "
                      f"peak {record['peak_rss_mb']:.0f} MB", flush=True)
                data["runs"].append(record)
                data["summary"], data["checks"] = summarise(data["runs"])
                RESULTS.mkdir(exist_ok=True)
                path.write_text(json.dumps(data, indent=1))
    data["summary"], data["checks"] = summarise(data["runs"])
    data["command"] = "nice -n 10 .venv/bin/python benchmarks/bench_metrics_scale.py" + (
        " --quick" if args.quick else "")
    data["machine"] = f"{os.cpu_count()} CPUs; Dask: threaded scheduler, 2 workers"
    path.write_text(json.dumps(data, indent=1))
    print_table(data["summary"], data["checks"])


if __name__ == "__main__":
    main()
