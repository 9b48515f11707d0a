"""
Fair credit scoring on German credit
====================================

A credit-risk model flags young applicants as bad risks far more often than older ones. We
train the same network twice inside a scikit-learn :class:`~sklearn.pipeline.Pipeline`: once
plain (the baseline) and once with a demographic-parity penalty
(:class:`~sklearn_fairloss.fairness.DemographicParity`) between applicants aged 25 or younger
and older ones, and compare the share flagged in each group, the accuracy and the ranking
quality with :func:`~sklearn_fairloss.metrics.group_report`.

German credit has 1,000 rows, so the 300 test rows hold about 60 young applicants: differences
of a few points are within noise. The network is small and trains for few epochs to keep the
example fast.
"""

# %%
# Data: the age group of the applicant is the protected attribute
# ----------------------------------------------------------------
# The target is 1 for a bad credit risk (30 % of the rows). Age stays a model input.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss.datasets import load_german
from sklearn_fairloss.fairness import DemographicParity
from sklearn_fairloss.metrics import group_report

X, y, age = load_german(return_sensitive="age")
group = pd.Series(np.where(age <= 25, "25 or younger", "over 25"), name="age group")
X_train, X_test, y_train, y_test, group_train, group_test = train_test_split(
    X, y, group, test_size=0.3, stratify=y, random_state=0)


def make_model(strength):
    pre = make_column_transformer(
        (StandardScaler(), make_column_selector(dtype_include="number")),
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
    )
    return make_pipeline(pre, FairLossClassifier(
        hidden_layer_sizes=(32,), lr=3e-3, batch_size=64, max_epochs=30,
        fairness=DemographicParity(), fairness_strength=strength, random_state=0))


# %%
# Baseline and fair model
# -----------------------
# ``fairness_strength=0`` switches the penalty off: the baseline is the same network.
# The groups reach the classifier through the pipeline's step prefix.
models = {}
for name, strength in [("baseline", 0.0), ("demographic parity, strength 3", 3.0)]:
    models[name] = make_model(strength).fit(
        X_train, y_train, fairlossclassifier__sensitive_features=group_train)

reports = {}
for name, model in models.items():
    reports[name] = group_report(
        y_test, model.predict(X_test), y_proba=model.predict_proba(X_test)[:, 1],
        sensitive_features=group_test)
    print(name)
    print(reports[name].round(3).to_string(), end="\n\n")

# %%
# Share flagged as a bad risk, by age group
# -----------------------------------------
# The bars are the share of applicants of each group predicted "bad credit" (class 1).
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
groups = sorted(group_test.unique())
width = 0.38
for i, (name, model) in enumerate(models.items()):
    y_pred = model.predict(X_test)
    rates = [np.mean(y_pred[(group_test == g).to_numpy()] == 1) for g in groups]
    accuracy = np.mean(y_pred == y_test)
    bars = ax.bar(np.arange(len(groups)) + (i - 0.5) * width, rates, width,
                  label=f"{name} (accuracy {accuracy:.3f})")
    ax.bar_label(bars, fmt="%.2f")
ax.set_xticks(np.arange(len(groups)), groups)
ax.set_ylabel("flagged as bad risk (test)")
ax.set_ylim(0, 1.15)
ax.legend(loc="upper left", fontsize="small")
ax.set_title("German credit: bad-risk predictions by age group")
plt.show()
