"""ProPublica COMPAS recidivism data (Broward County, Florida), bundled."""

import functools

import numpy as np
import pandas as pd

from ._base import DatasetInfo, as_category, check_frame, finish, loader_doc, open_data_text

__all__ = ["load_compas"]

COMPAS_FEATURES = [
    "sex", "age", "age_cat", "race", "juv_fel_count", "juv_misd_count", "juv_other_count",
    "priors_count", "c_charge_degree", "c_charge_desc",
]
COMPAS_CATEGORICAL = ["sex", "age_cat", "race", "c_charge_degree", "c_charge_desc"]
COMPAS_SCORES = ["decile_score", "score_text", "v_decile_score", "v_score_text"]
COMPAS_SENSITIVE = ["race", "sex", "age"]
COMPAS_TARGET = "two_year_recid"
COMPAS_TARGET_NAMES = ["no recidivism", "recidivism"]
COMPAS_N_RAW = 7214
COMPAS_N_ROWS = 6172

COMPAS_DESCR = """\
.. _compas_dataset:

ProPublica COMPAS recidivism dataset (two-year)
-----------------------------------------------

**Rows:** 6,172 defendants screened with COMPAS in Broward County, Florida, in 2013-2014: the
rows of ``compas-scores-two-years.csv`` (7,214) left by ProPublica's filter,
-30 <= days_b_screening_arrest <= 30, is_recid != -1, c_charge_degree != "O" and
score_text != "N/A", in file order; the index runs 0..6171. **Target:** ``two_year_recid``, 1
when the person was charged with a new crime within two years (45.5% of the rows), 0 otherwise;
``target_names`` = ['no recidivism', 'recidivism'].

**Features** (``data``, 10 columns): sex, age (years), age_cat ('Less than 25', '25 - 45',
'Greater than 45'), race, juv_fel_count, juv_misd_count, juv_other_count, priors_count,
c_charge_degree ('F' felony, 'M' misdemeanour) and c_charge_desc (text of the charge, 5 rows
missing). Numeric columns are int64, the others pandas ``category``. Outcome columns
(is_recid, r_*, violent_recid, ...) are not features: they leak the target.

**COMPAS's own scores** (``scores``, not features): decile_score (1-10) and score_text
('Low', 'Medium', 'High') of the recidivism scale, v_decile_score and v_score_text of the
violence scale, aligned with ``data``; ProPublica's analysis compares them with the outcome.

**Sensitive attributes** (``sensitive``): race, sex, age (numeric). They stay in ``data`` as
well; drop them from the model's inputs yourself if you want to.

**Source and licence:** Angwin, J., Larson, J., Mattu, S. and Kirchner, L. (2016), "Machine
Bias", ProPublica, and Larson, J., Mattu, S., Kirchner, L. and Angwin, J. (2016), "How We
Analyzed the COMPAS Recidivism Algorithm", ProPublica; data from the repository
https://github.com/propublica/compas-analysis (file compas-scores-two-years.csv), obtained by
ProPublica from the Broward County Sheriff's Office through a public records request. The
repository states no explicit licence; the data is public records published by ProPublica for
research and reproduction of their analysis, and is redistributed here with attribution for
research use. Check the terms that apply to your own use. The package ships all 7,214 rows but
only 18 of the 53 columns (values unchanged): names, dates of birth, case numbers and dates of
the defendants are left out.
"""


COMPAS = DatasetInfo(COMPAS_SENSITIVE, COMPAS_TARGET_NAMES, COMPAS_DESCR)


@functools.lru_cache(maxsize=1)
def _load_compas_frames():
    raw = pd.read_csv(
        open_data_text("compas-scores-two-years-subset.csv.gz"),
        keep_default_na=False,
        na_values=[""],
        dtype={"score_text": "str", "v_score_text": "str", "c_charge_desc": "str"},
    )
    check_frame(raw, COMPAS_N_RAW, "COMPAS raw")
    days = raw["days_b_screening_arrest"]
    keep = (
        days.between(-30, 30)  # NaN days (no arrest date) are dropped, as in ProPublica's R
        & (raw["is_recid"] != -1)
        & (raw["c_charge_degree"] != "O")
        & (raw["score_text"] != "N/A")
        & raw["score_text"].notna()
    )
    kept = raw.loc[keep].reset_index(drop=True)
    check_frame(kept, COMPAS_N_ROWS, "COMPAS")
    data = as_category(kept[COMPAS_FEATURES].copy(), COMPAS_CATEGORICAL)
    scores = as_category(kept[COMPAS_SCORES].copy(), ["score_text", "v_score_text"])
    for column in ("score_text", "v_score_text"):
        scores[column] = scores[column].cat.reorder_categories(["Low", "Medium", "High"],
                                                               ordered=True)
    target = pd.Series(kept[COMPAS_TARGET].to_numpy(dtype=np.int64), name=COMPAS_TARGET)
    return data, target, scores


@loader_doc(COMPAS)
def load_compas(*, return_X_y=False, return_sensitive=None):
    """Load ProPublica's COMPAS two-year recidivism data shipped with the package.

    The 6,172 defendants left by ProPublica's usual filter of ``compas-scores-two-years.csv``
    (Angwin et al. 2016, "Machine Bias", ProPublica): -30 <= days_b_screening_arrest <= 30,
    is_recid != -1, c_charge_degree != "O", score_text != "N/A". The task: was the person
    charged with a new crime within two years (1, 45.5% of rows) or not (0)? No download.
    The repository states no licence: see ``DESCR`` for the provenance and terms.

    {loader_params}

    Returns
    -------
    {bunch}
        data : DataFrame of shape (6172, 10)
            The features sex, age, age_cat, race, juv_fel_count, juv_misd_count,
            juv_other_count, priors_count, c_charge_degree, c_charge_desc; numeric columns
            int64, the others pandas ``category``. Index 0..6171.
        target : Series of shape (6172,), int64, named "two_year_recid"
            1 for a new charge within two years, 0 otherwise.
        sensitive : DataFrame of shape (6172, 3)
            Copies of the columns race, sex and age of ``data``.
        scores : DataFrame of shape (6172, 4)
            COMPAS's own risk scores (decile_score, score_text, v_decile_score,
            v_score_text), not features; score_text is an ordered category Low < Medium <
            High.
        {loader_returns}

    References
    ----------
    Angwin, J., Larson, J., Mattu, S. and Kirchner, L. (2016). Machine Bias. ProPublica.
    https://www.propublica.org/article/machine-bias-risk-assessments-in-criminal-sentencing;
    data: https://github.com/propublica/compas-analysis

    Examples
    --------
    >>> from sklearn_fairloss.datasets import load_compas
    >>> X, y, A = load_compas(return_sensitive=["race", "sex"])
    >>> X.shape, A.shape
    ((6172, 10), (6172, 2))
    >>> round(float(y.mean()), 3)
    0.455
    >>> A["race"].value_counts().head(2).to_dict()
    {'African-American': 3175, 'Caucasian': 2103}
    >>> compas = load_compas()
    >>> compas.scores["score_text"].value_counts().sort_index().to_dict()
    {'Low': 3421, 'Medium': 1607, 'High': 1144}
    """
    data, target, scores = _load_compas_frames()
    return finish(data, target, COMPAS, return_X_y=return_X_y,
                  return_sensitive=return_sensitive, scores=scores)
