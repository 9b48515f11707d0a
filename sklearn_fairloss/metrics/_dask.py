"""Dask inputs: the metrics' sufficient statistics in one pass over the partitions.

A metric given Dask collections (columns of a ``dask.dataframe`` DataFrame, or ``dask.array``
arrays) does not gather the rows. Each partition is checked as in-memory input would be and
reduced to small tables of sums (rows and weight per group x true label x predicted label,
per group x true label x bin of a reliability curve, ...); the tables of all partitions are
added up in a tree, and one ``dask.compute`` returns them, so every partition is read once.
The metric then finishes from the sums with the code it runs on in-memory data: a table of
counts stands in for the rows it counts (its cells as rows, weighted by their counts), and
the calibration metrics start from the sums of each bin.

dask is imported only when a Dask collection is given; the metrics need it nowhere else.
"""

from functools import partial

import numpy as np
import pandas as pd

from .._validation import MSG_SW_NEGATIVE, MSG_SW_ZERO, sensitive_frame
from ._binning import _bin_ids, _curve_points
from ._validation import (
    MSG_Y_EMPTY,
    MSG_Y_LENGTH,
    _check_1d,
    _check_proba_values,
    _proba_array,
)

__all__ = ["any_dask", "bin_sums", "cell_sums", "cells_as_rows", "confidence_sums",
           "group_frame", "group_sums", "is_dask_collection", "level", "n_columns",
           "reduce_partitions", "rows_only"]

MSG_MIXED = (
    "{} is a Dask collection but {} is not: pass every per-row input as Dask collections "
    "(columns of one Dask DataFrame, or Dask arrays), or none."
)
MSG_KINDS = (
    "Dask arrays and Dask DataFrames/Series cannot be mixed ({} and {}): pass columns of one "
    "Dask DataFrame, or Dask arrays."
)
MSG_ALIGN = (
    "The Dask inputs do not line up partition by partition ({}); pass columns of one Dask "
    "DataFrame, or Dask arrays of the same length."
)
MSG_ROWS_ONLY = "{} needs every row in memory ({}), so it is not computed from Dask inputs."

# names of the keys of the tables (the sensitive features keep their own names)
Y_TRUE, Y_PRED, CURVE, COLUMN, BIN = ("__y_true__", "__y_pred__", "__curve__", "__column__",
                                      "__bin__")
_COMBINE_EVERY = 8  # tables added up by each task of the reduction tree


def is_dask_collection(value):
    """True for a Dask collection (array, DataFrame, Series), without importing dask."""
    return not isinstance(value, type) and callable(getattr(value, "__dask_graph__", None))


def any_dask(*values):
    """True when one of ``values`` is a Dask collection."""
    return any(is_dask_collection(v) for v in values)


def rows_only(what, why):
    """The error for an option that cannot be computed from per-partition sums."""
    return ValueError(MSG_ROWS_ONLY.format(what, why))


def n_columns(y_proba):
    """Columns of a Dask ``y_proba``: None for positive-class probabilities (1-D or one
    column), else the number of classes."""
    if hasattr(y_proba, "columns"):
        k = len(y_proba.columns)
    elif len(y_proba.shape) == 2:
        k = y_proba.shape[1]
    else:
        return None
    return None if k == 1 else int(k)


# ----------------------------------------------------------------- the pass over partitions


def _weights(values):
    """A partition's ``sample_weight`` (finite and non-negative; that they are not all zero
    is checked on the total)."""
    weights = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError(MSG_SW_NEGATIVE)
    return weights


def _proba(values):
    proba, dtype = _proba_array(values)
    _check_proba_values(proba, dtype)
    return proba


def _float_1d(values, name):
    return _check_1d(values, name).astype(np.float64)


# How each input of a partition is checked (the checks of in-memory input, row by row).
_PREPARE = {
    "y_true": partial(_check_1d, name="y_true"),
    "y_pred": partial(_check_1d, name="y_pred"),
    "y_proba": _proba,
    "sensitive_features": sensitive_frame,
    "sample_weight": _weights,
    "confidence": partial(_float_1d, name="confidence"),
    "outcome": partial(_float_1d, name="outcome"),
}


def _as_frame(name, value, position, reference):
    """A Dask input as a Dask DataFrame with private column names, and its layout entry
    ``(columns, names, is_1d)``."""
    import dask.array as da
    import dask.dataframe as dd

    if isinstance(value, da.Array):
        chunks, n = reference.chunks[0], reference.shape[0]
        if value.ndim not in (1, 2):
            raise ValueError(f"{name} must be 1-D or 2-D; got a Dask array of shape "
                             f"{value.shape}.")
        if value.shape[0] != n:
            raise ValueError(MSG_Y_LENGTH.format(name, value.shape[0], "y_true", n))
        if value.ndim == 1:
            value = dd.from_dask_array(value.rechunk((chunks,)))
        else:
            value = dd.from_dask_array(value.rechunk((chunks, -1)), columns=[
                f"sensitive_feature_{j}" for j in range(value.shape[1])])
        names = [None] if isinstance(value, dd.Series) else list(value.columns)
    elif isinstance(value, dd.Series):
        names = [value.name]
    elif isinstance(value, dd.DataFrame):
        names = list(value.columns)
    else:
        raise TypeError(f"{name} is a Dask collection of an unsupported type "
                        f"{type(value).__name__}; pass a Dask DataFrame, Series or array.")
    columns = [f"__{position}_{j}__" for j in range(len(names))]
    if isinstance(value, dd.Series):
        return value.rename(columns[0]).to_frame(), (columns, names, True)
    return value.rename(columns=dict(zip(value.columns, columns))), (columns, names, False)


def _dask_partitions(inputs):
    """The partitions of one Dask DataFrame holding every input as columns (delayed pandas
    DataFrames), and where each input is in it."""
    import dask.array as da
    import dask.dataframe as dd

    given = {name: value for name, value in inputs.items() if value is not None}
    first = next(name for name, value in given.items() if is_dask_collection(value))
    for name, value in given.items():
        if not is_dask_collection(value):
            raise ValueError(MSG_MIXED.format(first, name))
    arrays = [name for name, value in given.items() if isinstance(value, da.Array)]
    if arrays and len(arrays) < len(given):
        other = next(name for name in given if name not in arrays)
        raise ValueError(MSG_KINDS.format(arrays[0], other))
    reference = given[arrays[0]] if arrays else None
    frames, layout = [], {}
    for position, (name, value) in enumerate(given.items()):
        frame, layout[name] = _as_frame(name, value, position, reference)
        frames.append(frame)
    if len(frames) == 1:
        return frames[0].to_delayed(), layout
    try:  # dask checks the alignment when it builds the graph
        return dd.concat(frames, axis=1).to_delayed(), layout
    except ValueError as exc:
        raise ValueError(MSG_ALIGN.format(exc)) from exc


def _partition_tables(part, layout, tables):
    """The tables of one partition (a pandas DataFrame of every input's columns)."""
    values = {}
    for name, (columns, names, is_1d) in layout.items():
        if is_1d:
            value = part[columns[0]].rename(names[0])
        else:
            value = part[columns]
            value.columns = names
        values[name] = _PREPARE[name](value)
    return [table(values) for table in tables]


def _add(*tables):
    """The sum of tables of sums that share their keys (the rows of the same key added)."""
    tables = [t for t in tables if len(t)] or list(tables[:1])
    if len(tables) == 1:
        return tables[0]
    stacked = pd.concat(tables)
    return stacked.groupby(level=list(range(stacked.index.nlevels)), sort=False,
                           observed=True, dropna=False).sum()


def _combine(*results):
    return [_add(*tables) for tables in zip(*results)]


def _totals(part):
    """Rows and total weight of a partition (one key, 0)."""
    n = len(part["y_true"] if "y_true" in part else part["confidence"])
    weight = part["sample_weight"].sum() if "sample_weight" in part else float(n)
    return pd.DataFrame({"rows": [float(n)], "weight": [weight]}, index=pd.Index([0]))


def reduce_partitions(inputs, tables):
    """Add up per-partition tables of sums over Dask inputs, reading each partition once.

    Parameters
    ----------
    inputs : dict
        ``{"y_true": ..., "y_proba": ..., "sensitive_features": ..., ...}``: Dask collections
        (None to leave one out), each checked partition by partition like in-memory input.
    tables : list of callable
        ``table(part)`` gets the dict of one partition's checked inputs (ndarrays; the
        sensitive features as a DataFrame) and returns a DataFrame of sums indexed by its
        keys, as :func:`group_sums` makes them.

    Returns
    -------
    sums : list of DataFrame
        Each table summed over all partitions (the rows of equal keys added up).
    """
    import dask

    partitions, layout = _dask_partitions(inputs)
    tables = [_totals, *tables]
    parts = [dask.delayed(_partition_tables)(part, layout, tables) for part in partitions]
    while len(parts) > 1:
        parts = [dask.delayed(_combine)(*parts[i:i + _COMBINE_EVERY])
                 for i in range(0, len(parts), _COMBINE_EVERY)]
    (result,) = dask.compute(parts[0])
    totals, *sums = result
    if totals["rows"].sum() == 0:
        raise ValueError(MSG_Y_EMPTY.format("y_true" if "y_true" in layout else "confidence"))
    if "sample_weight" in layout and not totals["weight"].sum() > 0:
        raise ValueError(MSG_SW_ZERO)
    return sums


# ------------------------------------------------------------------------- the tables


def group_sums(keys, values):
    """Sums of ``values`` (dict of 1-D arrays) over the rows that share ``keys`` (a list of
    named Series, or of ``(name, array)`` pairs): a DataFrame indexed by the key
    combinations present."""
    keys = [k.reset_index(drop=True) if isinstance(k, pd.Series) else pd.Series(k[1], name=k[0])
            for k in keys]
    return pd.DataFrame(values).groupby(keys, sort=False, observed=True, dropna=False).sum()


def _row_weights(part, n):
    weights = part.get("sample_weight")
    return np.ones(n) if weights is None else weights


def _group_keys(part):
    frame = part.get("sensitive_features")
    return [] if frame is None else [frame[c] for c in frame.columns]


def cell_sums(part, brier=False):
    """Rows and weight per cell (sensitive features x ``y_true`` [x ``y_pred``]): the
    sufficient statistic of every metric of predicted labels by group.

    With ``brier``, also the weighted squared error of the positive-class probability
    ``p`` were the row negative (``brier0``, ``p ** 2``) or positive (``brier1``,
    ``(p - 1) ** 2``).
    """
    y_true = part["y_true"]
    n = len(y_true)
    keys = _group_keys(part) + [(Y_TRUE, y_true)]
    if "y_pred" in part:
        keys.append((Y_PRED, part["y_pred"]))
    weights = _row_weights(part, n)
    values = {"rows": np.ones(n), "weight": weights}
    if brier:
        proba = part["y_proba"]
        p = proba[:, -1] if proba.ndim == 2 else proba
        values["brier0"] = weights * (p - 0.0) ** 2
        values["brier1"] = weights * (p - 1.0) ** 2
    return group_sums(keys, values)


def bin_sums(part, variant, n_bins, by_group=False):
    """Weight and weighted confidence per cell (sensitive features x ``y_true`` x curve x
    column x bin) of the reliability curves of ``variant`` on ``n_bins`` equal-width bins:
    the sufficient statistic of the binned calibration metrics (the outcome of a cell is
    whether its label's column is the curve's column, known once all labels are seen)."""
    proba = part["y_proba"]
    if proba.ndim == 1:
        proba = np.column_stack([1.0 - proba, proba])
    n = proba.shape[0]
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    weights = _row_weights(part, n)
    groups = _group_keys(part) if by_group else []
    tables = []
    for curve, (confidence, column) in enumerate(_curve_points(proba, variant)):
        keys = groups + [(Y_TRUE, part["y_true"]), (CURVE, np.full(n, curve)),
                         (COLUMN, np.broadcast_to(column, (n,))),
                         (BIN, _bin_ids(confidence, edges))]
        tables.append(group_sums(keys, {"weight": weights, "wconf": weights * confidence}))
    return _add(*tables)


def confidence_sums(part, n_bins):
    """Weight, weighted confidence and weighted outcome per equal-width bin."""
    confidence, outcome = part["confidence"], part["outcome"]
    weights = _row_weights(part, len(confidence))
    ids = _bin_ids(confidence, np.linspace(0.0, 1.0, n_bins + 1))
    return group_sums([(BIN, ids)], {"weight": weights, "wconf": weights * confidence,
                                       "wout": weights * outcome})


# ------------------------------------------------------------------------ reading them


def group_frame(table):
    """The sensitive features of each cell of a summed table (its index levels before
    ``y_true``), as the DataFrame an in-memory metric would get; None when not grouped."""
    names = list(table.index.names)
    if Y_TRUE not in names or names.index(Y_TRUE) == 0:
        return None
    return pd.DataFrame({name: table.index.get_level_values(i).to_numpy()
                         for i, name in enumerate(names[:names.index(Y_TRUE)])})


def level(table, name):
    """The values of one key of a summed table, one per cell."""
    return table.index.get_level_values(list(table.index.names).index(name)).to_numpy()


def cells_as_rows(table):
    """A summed :func:`cell_sums` table as rows: ``(y_true, y_pred, sensitive_features,
    rows, weight)``, one row per cell; weighted by ``weight``, these rows give every metric
    of predicted labels the value the original rows give."""
    y_pred = level(table, Y_PRED) if Y_PRED in table.index.names else None
    return (level(table, Y_TRUE), y_pred, group_frame(table),
            table["rows"].to_numpy(), table["weight"].to_numpy())
