"""
Per-group reliability on COMPAS
===============================

Does a predicted risk of 0.6 mean the same for African-American and Caucasian defendants?
A reliability diagram per group answers it:
:class:`~sklearn_fairloss.plotting.ReliabilityDisplay` draws one calibration curve per group,
with the number of rows in each bin.

We draw it for a logistic regression (the baseline most risk scores are built on) and for a
``FairLossClassifier`` trained with an equalized-odds penalty
(:class:`~sklearn_fairloss.fairness.EqualizedOdds`), and report the per-group metrics with
:func:`~sklearn_fairloss.metrics.group_report`.
"""

# %%
# Data
# ----
import matplotlib.pyplot as plt
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss.datasets import load_compas
from sklearn_fairloss.fairness import EqualizedOdds
from sklearn_fairloss.metrics import group_report
from sklearn_fairloss.plotting import ReliabilityDisplay

X, y, race = load_compas(return_sensitive="race")
rows = race.isin(["African-American", "Caucasian"]).to_numpy()
X, y, race = X[rows], y[rows], race[rows].astype(str)
X = X.drop(columns=["c_charge_desc"])
X_train, X_test, y_train, y_test, race_train, race_test = train_test_split(
    X, y, race, test_size=0.3, stratify=y, random_state=0)
pre = make_column_transformer(
    (StandardScaler(), make_column_selector(dtype_include="number")),
    (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
    sparse_threshold=0,
)
X_train = pre.fit_transform(X_train)
X_test = pre.transform(X_test)

# %%
# Baseline and mitigated model
# ----------------------------
baseline = LogisticRegression(max_iter=1000).fit(X_train, y_train)
fair = FairLossClassifier(
    hidden_layer_sizes=(32,), batch_size=256, max_epochs=15, lr=3e-3,
    fairness=EqualizedOdds(), fairness_strength=2.0, batch_sampler="stratified",
    random_state=0,
).fit(X_train, y_train, sensitive_features=race_train)

for name, model in [("LogisticRegression", baseline), ("FairLoss, equalized odds", fair)]:
    report = group_report(y_test, model.predict(X_test),
                          y_proba=model.predict_proba(X_test)[:, 1],
                          sensitive_features=race_test)
    print(name)
    print(report.round(3).to_string(), end="\n\n")

# %%
# Reliability by race
# -------------------
# Points near the diagonal are calibrated; the shaded steps (right axis) count the rows of
# each bin.
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained", sharey=True)
for ax, (name, model) in zip(axes, [("LogisticRegression (baseline)", baseline),
                                    ("FairLoss, equalized odds", fair)]):
    ReliabilityDisplay.from_estimator(model, X_test, y_test, sensitive_features=race_test,
                                      n_bins=8, ax=ax)
    ax.legend(loc="upper left", fontsize="small")
    ax.set_title(name)
plt.show()
