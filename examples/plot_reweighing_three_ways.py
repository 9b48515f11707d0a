"""
Reweighing, three ways in
=========================

Reweighing (Kamiran & Calders, 2012) gives each training row the weight
``P(group) P(class) / P(group, class)``, so that in the weighted data the class no longer
depends on the group. :class:`~sklearn_fairloss.weighting.Reweighing` is one strategy object
that enters training in three ways:

1. as an array, :func:`~sklearn_fairloss.weighting.strategy_sample_weight`, for any
   ``fit(..., sample_weight=...)``;
2. as a meta-estimator, :class:`~sklearn_fairloss.weighting.WeightedClassifier`, around any
   classifier that takes sample weights;
3. as a parameter of the package's own estimator,
   ``FairLossClassifier(sample_weight_strategy="reweighing")``.

Each is compared with the same model trained without weights (the baseline), on Adult with
sex as the protected attribute (a subsample, to keep the example fast).
"""

# %%
# Data
# ----
import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss.datasets import load_adult
from sklearn_fairloss.metrics import demographic_parity_difference
from sklearn_fairloss.weighting import Reweighing, WeightedClassifier, strategy_sample_weight

X, y, sex = load_adult(return_sensitive="sex")
X, _, y, _, sex, _ = train_test_split(X, y, sex, train_size=4000, stratify=y, random_state=0)
X_train, X_test, y_train, y_test, sex_train, sex_test = train_test_split(
    X, y, sex, test_size=0.4, stratify=y, random_state=0)
pre = make_column_transformer(
    (StandardScaler(), make_column_selector(dtype_include="number")),
    (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
    sparse_threshold=0,
)
X_train = pre.fit_transform(X_train)
X_test = pre.transform(X_test)

# %%
# The weights
# -----------
# Women with high income and men with low income are rare in Adult: they get the largest
# weights.
weights = strategy_sample_weight(Reweighing(), y_train, sex_train)
for (group, label), w in sorted(
        {(g, c): w for g, c, w in zip(sex_train, y_train, weights)}.items()):
    print(f"sex={group:6s} class={label}: weight {w:.2f}")

# %%
# Three ways in, each beside its baseline
# ---------------------------------------
fast = dict(hidden_layer_sizes=(32,), batch_size=256, max_epochs=15, lr=3e-3, random_state=0)
results = {}

# 1. the array, for any fit(sample_weight=...)
lr_plain = LogisticRegression(max_iter=1000).fit(X_train, y_train)
lr_weighted = LogisticRegression(max_iter=1000).fit(X_train, y_train, sample_weight=weights)
results["LogisticRegression\n(sample_weight=)"] = (lr_plain, lr_weighted)

# 2. the meta-estimator: the groups go to fit; the strategy is fitted on the training rows
hgb_plain = HistGradientBoostingClassifier(max_iter=50, random_state=0).fit(X_train, y_train)
hgb_weighted = WeightedClassifier(
    HistGradientBoostingClassifier(max_iter=50, random_state=0), strategy="reweighing",
).fit(X_train, y_train, sensitive_features=sex_train)
results["HistGradientBoosting\n(WeightedClassifier)"] = (hgb_plain, hgb_weighted)

# 3. the estimator's own parameter
fl_plain = FairLossClassifier(**fast).fit(X_train, y_train)
fl_weighted = FairLossClassifier(sample_weight_strategy="reweighing", **fast).fit(
    X_train, y_train, sensitive_features=sex_train)
results["FairLossClassifier\n(sample_weight_strategy=)"] = (fl_plain, fl_weighted)

gaps = {}
for name, (plain, weighted) in results.items():
    gaps[name] = []
    for model in (plain, weighted):
        y_pred = model.predict(X_test)
        dp = demographic_parity_difference(y_test, y_pred, sensitive_features=sex_test)
        gaps[name].append((dp, np.mean(y_pred == y_test)))
    (dp0, acc0), (dp1, acc1) = gaps[name]
    print(f"{name.splitlines()[0]:22s} DP difference {dp0:.3f} -> {dp1:.3f}, "
          f"accuracy {acc0:.3f} -> {acc1:.3f}")

# %%
# Demographic parity difference between sexes
# -------------------------------------------
# The same strategy lowers the gap for all three models, for a small cost in accuracy
# (printed above).
fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
x = np.arange(len(gaps))
width = 0.38
for i, label in enumerate(["no weights (baseline)", "Reweighing"]):
    bars = ax.bar(x + (i - 0.5) * width, [g[i][0] for g in gaps.values()], width, label=label,
                  color=["#bdbdbd", "#3182bd"][i])
    ax.bar_label(bars, fmt="%.3f", fontsize="small")
ax.set_xticks(x, list(gaps))
ax.set_ylabel("DP difference between sexes (test)")
ax.set_ylim(0, 1.35 * max(g[0][0] for g in gaps.values()))
ax.legend(loc="upper center", ncols=2)
ax.set_title("Adult: one Reweighing strategy, three ways in")
plt.show()
