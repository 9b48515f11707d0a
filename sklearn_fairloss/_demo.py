"""The offline demo: ``python -m sklearn_fairloss``.

Trains on the bundled Adult data (70/30 split, stratified, fixed seed) and prints, for each
configuration, accuracy, ROC AUC, the demographic parity difference between sexes, the
expected calibration error (15 equal-width bins, top-label) and the training seconds.
``LogisticRegression`` gets the usual one-hot ``ColumnTransformer``; gradient boosting and
``FairLossClassifier`` take the DataFrame as it is (text columns as categories).

Later features add rows to :data:`CONFIGURATIONS`.
"""

import time

import numpy as np
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .datasets import load_adult
from .metrics import demographic_parity_difference, expected_calibration_error

__all__ = ["CONFIGURATIONS", "FAIR_LOSS_PARAMS", "make_preprocessor", "run_demo"]

#: The FairLossClassifier settings of the demo: the defaults, seeded.
FAIR_LOSS_PARAMS = dict(random_state=0)


def make_preprocessor():
    """Standardise numeric columns, one-hot encode the others (missing as its own level)."""
    return make_column_transformer(
        (StandardScaler(), make_column_selector(dtype_include="number")),
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False),
         make_column_selector(dtype_exclude="number")),
    )


def _fair_loss_classifier(**params):
    from ._classifier import FairLossClassifier

    return FairLossClassifier(**{**FAIR_LOSS_PARAMS, **params})


def _one_hot(estimator):
    return make_pipeline(make_preprocessor(), estimator)


#: (row label, factory of the model, whether its fit takes sensitive_features)
CONFIGURATIONS = [
    ("LogisticRegression (one-hot)", lambda: _one_hot(LogisticRegression(max_iter=1000)), False),
    ("HistGradientBoostingClassifier",
     lambda: HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0),
     False),
    ("FairLossClassifier()", lambda: _fair_loss_classifier(), False),
    ("  + DemographicParity (strength 5)",
     lambda: _fair_loss_classifier(fairness="demographic_parity", fairness_strength=5.0,
                                   batch_sampler="stratified"), True),
]


def run_demo(configurations=None, print_fn=print):
    """Train each configuration on bundled Adult and print the comparison table.

    Parameters
    ----------
    configurations : list of (str, callable, bool), default=None
        Rows to run; :data:`CONFIGURATIONS` when None.
    print_fn : callable, default=print

    Returns
    -------
    list of dict
        One dict of measured numbers per row.
    """
    configurations = CONFIGURATIONS if configurations is None else configurations
    data = load_adult()
    X, y, sex = data.data, data.target.to_numpy(), data.sensitive["sex"].to_numpy()
    X_train, X_test, y_train, y_test, sex_train, sex_test = train_test_split(
        X, y, sex, test_size=0.3, stratify=y, random_state=0
    )
    print_fn(f"Adult (bundled): {len(y_train)} training rows, {len(y_test)} test rows, "
             f"{y.mean():.1%} positives; sensitive attribute: sex")
    header = (f"{'model':<38} {'accuracy':>8} {'ROC AUC':>8} {'DP diff':>8} {'ECE':>7} "
              f"{'fit s':>6}")
    print_fn(header)
    print_fn("-" * len(header))
    rows = []
    for label, factory, takes_sensitive in configurations:
        pipe = factory()
        fit_params = {"sensitive_features": sex_train} if takes_sensitive else {}
        start = time.perf_counter()
        pipe.fit(X_train, y_train, **fit_params)
        seconds = time.perf_counter() - start
        proba_matrix = pipe.predict_proba(X_test)
        proba = proba_matrix[:, 1]
        pred = pipe.predict(X_test)
        row = {
            "model": label,
            "accuracy": accuracy_score(y_test, pred),
            "roc_auc": roc_auc_score(y_test, proba),
            "dp_difference": demographic_parity_difference(y_test, pred,
                                                           sensitive_features=sex_test),
            "ece": expected_calibration_error(y_test, proba_matrix),
            "fit_seconds": seconds,
        }
        rows.append(row)
        print_fn(f"{label:<38} {row['accuracy']:>8.4f} {row['roc_auc']:>8.4f} "
                 f"{row['dp_difference']:>8.4f} {row['ece']:>7.4f} {seconds:>6.1f}")
    return rows


def main():
    np.set_printoptions(precision=4)
    run_demo()
