"""
Model selection under a fairness constraint
===========================================

How strong should the fairness penalty be? Choose it the way any hyper-parameter is chosen:
by cross-validation on the training rows. :class:`~sklearn.model_selection.GridSearchCV`
scores every candidate with accuracy and with a fairness scorer
(:func:`~sklearn_fairloss.metrics.make_fairness_scorer`), and
:class:`~sklearn_fairloss.metrics.ConstrainedRefit` refits the most accurate candidate whose
cross-validated demographic parity difference is within a bound (here 0.08: at most eight
points between the groups' rates of predicted recidivism).

The baseline is the candidate with ``fairness_strength=0`` (no penalty); the test split is
used only to report the chosen model.
"""

# %%
# COMPAS: predicting recidivism, race as the protected attribute
# --------------------------------------------------------------
# The two largest groups (African-American and Caucasian) are kept, as in ProPublica's
# analysis; a subsample keeps the example fast.
import matplotlib.pyplot as plt
import numpy as np
from sklearn import config_context
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss.datasets import load_compas
from sklearn_fairloss.metrics import (
    ConstrainedRefit,
    demographic_parity_difference,
    make_fairness_scorer,
)

X, y, race = load_compas(return_sensitive="race")
rows = race.isin(["African-American", "Caucasian"]).to_numpy()
X, y, race = X[rows], y[rows], race[rows].astype(str)
X = X.drop(columns=["c_charge_desc"])  # free text with hundreds of values
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
# The search
# ----------
# The groups reach the classifier and the fairness scorer through scikit-learn's metadata
# routing (enabled here for the search only): the classifier requests them in ``fit``, the
# scorer requests them by default. Each fold gets its slice.
with config_context(enable_metadata_routing=True):
    clf = FairLossClassifier(hidden_layer_sizes=(32,), batch_size=256, max_epochs=10,
                             lr=3e-3, fairness="demographic_parity", random_state=0)
    clf.set_fit_request(sensitive_features=True)
    scoring = {"accuracy": "accuracy",
               "dp": make_fairness_scorer("demographic_parity_difference")}
    refit = ConstrainedRefit("accuracy", "dp", bound=0.08)
    search = GridSearchCV(clf, {"fairness_strength": [0.0, 1.0, 4.0]}, scoring=scoring,
                          refit=refit, cv=3)
    search.fit(X_train, y_train, sensitive_features=race_train)

results = search.cv_results_
strengths = np.array(results["param_fairness_strength"], dtype=float)
cv_accuracy = results["mean_test_accuracy"]
cv_dp = -results["mean_test_dp"]  # the scorer negates a difference
for s, acc, dp in zip(strengths, cv_accuracy, cv_dp):
    print(f"fairness_strength={s:g}: cross-validated accuracy {acc:.3f}, DP difference {dp:.3f}")
print("chosen:", search.best_params_)

# %%
# The chosen model against the baseline, on the test rows
# -------------------------------------------------------
baseline = FairLossClassifier(hidden_layer_sizes=(32,), batch_size=256, max_epochs=10,
                              lr=3e-3, random_state=0).fit(X_train, y_train)
for name, model in [("baseline", baseline), ("chosen", search.best_estimator_)]:
    y_pred = model.predict(X_test)
    print(f"{name}: accuracy {np.mean(y_pred == y_test):.3f}, DP difference "
          f"{demographic_parity_difference(y_test, y_pred, sensitive_features=race_test):.3f}")

# %%
# The cross-validated trade-off
# -----------------------------
# Each point is one candidate, labelled with its ``fairness_strength``; the dashed line is the
# bound. The chosen candidate is circled. A stronger penalty is not always fairer: past some
# strength it costs accuracy without narrowing the gap further.
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.plot(cv_dp, cv_accuracy, "o-", color="#3182bd")
for s, dp, acc in zip(strengths, cv_dp, cv_accuracy):
    ax.annotate(f"strength {s:g}", (dp, acc), textcoords="offset points", xytext=(6, 6))
best = search.best_index_
ax.plot(cv_dp[best], cv_accuracy[best], "o", ms=16, mfc="none", mec="#e6550d", mew=2,
        label="chosen")
ax.axvline(0.08, ls="--", color="grey", label="bound: DP difference 0.08")
ax.margins(x=0.2, y=0.2)
ax.set_xlabel("cross-validated demographic parity difference")
ax.set_ylabel("cross-validated accuracy")
ax.legend()
ax.set_title("COMPAS: choosing fairness_strength by GridSearchCV")
plt.show()
