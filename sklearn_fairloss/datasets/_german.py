"""Statlog (German Credit Data), bundled with its attribute codes decoded."""

import functools
import json

import numpy as np
import pandas as pd

from ._base import (
    DatasetInfo,
    as_category,
    check_frame,
    finish,
    loader_doc,
    open_data_text,
    read_data_bytes,
)

__all__ = ["load_german"]

#: (column name here, key in german.values_maps.json or None for numeric), in file order.
GERMAN_COLUMNS = [
    ("checking_status", "status"),
    ("duration", None),
    ("credit_history", "credit_history"),
    ("purpose", "purpose"),
    ("credit_amount", None),
    ("savings", "savings"),
    ("present_employment", "present_employment"),
    ("installment_rate", None),
    ("personal_status_sex", "status_sex"),
    ("other_debtors", "other_debtors"),
    ("present_residence", None),
    ("property", "property"),
    ("age", None),
    ("installment_plans", "installment_plans"),
    ("housing", "housing"),
    ("existing_credits", None),
    ("job", "job"),
    ("num_dependents", None),
    ("telephone", "telephone"),
    ("foreign_worker", "foreign_worker"),
]
GERMAN_SENSITIVE = ["sex", "age", "foreign_worker"]
GERMAN_TARGET = "bad_credit"
GERMAN_TARGET_NAMES = ["good", "bad"]
GERMAN_N_ROWS = 1000

GERMAN_DESCR = """\
.. _german_dataset:

Statlog (German Credit Data) dataset
------------------------------------

**Rows:** 1,000 credit applicants (``german.data``, file order; index 0..999). **Target:**
``bad_credit``, 1 for a bad credit risk (raw class 2, 300 rows, 30%), 0 for a good one (raw
class 1, 700 rows); ``target_names`` = ['good', 'bad']. The positive class is the risk, the
minority, as in most fairness and imbalance studies of this data; to predict "good" use
``1 - target``.

**Features** (``data``, 21 columns): the 20 attributes of ``german.data`` in file order, with
the codes A11, A12, ... decoded by ``german.values_maps.json`` (pandas ``category``, the map's
texts with surrounding spaces stripped; telephone and foreign_worker are bool, as the map has
them), plus the derived column ``sex``:

- checking_status (status of the existing checking account), duration (months),
  credit_history, purpose, credit_amount (DM), savings, present_employment (employed since),
  installment_rate (% of disposable income), personal_status_sex, other_debtors,
  present_residence (years), property, age (years), installment_plans (other installment
  plans), housing, existing_credits (at this bank), job, num_dependents (people liable to
  provide maintenance for), telephone (True: registered under the customer's name),
  foreign_worker (True: foreign worker);
- sex ('female' or 'male'): the part before ":" of the decoded personal_status_sex, that is
  female for A92 ("female : divorced/separated/married") and A95 ("female : single", which
  does not occur in the data), male for A91, A93, A94. 310 female, 690 male.

**Sensitive attributes** (``sensitive``): sex, age (numeric), foreign_worker. They stay in
``data`` as well (sex next to personal_status_sex, which also encodes it); drop them from the
model's inputs yourself if you want to.

**Source and licence:** Hofmann, H. (1994). Statlog (German Credit Data) [Dataset]. UCI Machine
Learning Repository. https://doi.org/10.24432/C5NC77. Licensed under Creative Commons
Attribution 4.0 International (CC BY 4.0); the package ships gzip-compressed, byte-for-byte
copies of ``german.data`` and ``german.values_maps.json``. The original documentation also
gives a cost matrix (classifying a bad customer as good costs 5, the reverse 1).
"""


GERMAN = DatasetInfo(GERMAN_SENSITIVE, GERMAN_TARGET_NAMES, GERMAN_DESCR)


@functools.lru_cache(maxsize=1)
def _load_german_frames():
    maps = json.loads(read_data_bytes("german.values_maps.json.gz"))
    names = [name for name, _ in GERMAN_COLUMNS]
    raw = pd.read_csv(
        open_data_text("german.data.gz"),
        sep=" ",
        header=None,
        names=[*names, "credit"],
        dtype={name: "str" for name, key in GERMAN_COLUMNS if key is not None},
    )
    check_frame(raw, GERMAN_N_ROWS, "German credit")
    data = pd.DataFrame(index=raw.index)
    for name, key in GERMAN_COLUMNS:
        column = raw[name]
        if key is None:
            data[name] = column.astype(np.int64)
            continue
        mapping = maps[key]
        unknown = sorted(set(column.unique()) - set(mapping))
        if unknown:  # pragma: no cover - only with corrupted package data
            raise RuntimeError(f"Unknown German credit codes {unknown} in column {name!r}.")
        decoded = column.map(
            {code: value.strip() if isinstance(value, str) else value
             for code, value in mapping.items()}
        )
        if all(isinstance(value, bool) for value in mapping.values()):
            data[name] = decoded.astype(bool)
        else:
            data[name] = decoded
            as_category(data, [name])
        if name == "personal_status_sex":
            sex = column.map({code: text.split(":")[0].strip() for code, text in mapping.items()})
            data["sex"] = sex.astype("category")
    target = pd.Series((raw["credit"] == 2).to_numpy(dtype=np.int64), name=GERMAN_TARGET)
    return data, target


@loader_doc(GERMAN)
def load_german(*, return_X_y=False, return_sensitive=None):
    """Load the Statlog German Credit data shipped with the package, codes decoded.

    The 1,000 applicants of ``german.data`` (Hofmann 1994, UCI Machine Learning Repository,
    CC BY 4.0), with the attribute codes (A11, ...) replaced by their meaning from
    ``german.values_maps.json`` and a ``sex`` column derived from ``personal_status_sex``
    (A92 and A95 female, A91, A93 and A94 male). The target is **bad** credit: 1 for a bad
    risk (raw class 2, 30% of rows), 0 for a good one (raw class 1). No download.

    {loader_params}

    Returns
    -------
    {bunch}
        data : DataFrame of shape (1000, 21)
            The 20 raw attributes decoded (numeric columns int64, coded columns pandas
            ``category``, telephone and foreign_worker bool) and the derived ``sex``
            ('female'/'male'), placed after personal_status_sex. Index 0..999.
        target : Series of shape (1000,), int64, named "bad_credit"
            1 for bad credit (the risk), 0 for good credit.
        sensitive : DataFrame of shape (1000, 3)
            Copies of the columns sex, age and foreign_worker of ``data``.
        {loader_returns}

    References
    ----------
    Hofmann, H. (1994). Statlog (German Credit Data). UCI Machine Learning Repository.
    https://doi.org/10.24432/C5NC77 (CC BY 4.0).

    Examples
    --------
    >>> from sklearn_fairloss.datasets import load_german
    >>> X, y = load_german(return_X_y=True)
    >>> X.shape, y.name, int(y.sum())
    ((1000, 21), 'bad_credit', 300)
    >>> X["sex"].value_counts().to_dict()
    {'male': 690, 'female': 310}
    >>> X.loc[0, "personal_status_sex"]
    'male : single'
    >>> german = load_german()
    >>> list(german.target_names[[0, 1]])
    ['good', 'bad']
    """
    return finish(*_load_german_frames(), GERMAN, return_X_y=return_X_y,
                  return_sensitive=return_sensitive)
