"""
A continuous protected attribute: age, with distance covariance
===============================================================

Parity penalties compare groups; age has no groups. The distance covariance penalty
(:class:`~sklearn_fairloss.fairness.DistanceCovariance`, Székely et al. 2007) measures any
dependence, linear or not, between the model's scores and a numeric attribute, and training
pushes it towards zero. A numeric ``sensitive_features`` is treated as continuous.

The baseline is the same network without the penalty. We report
:func:`~sklearn_fairloss.metrics.distance_correlation` between the predicted probability and
age on the test rows (0: independent), and plot the mean predicted probability by age.
"""

# %%
# Data: Adult, age as the protected attribute
# -------------------------------------------
# Age stays a model input here: the penalty has to remove its influence, not merely hide
# the column.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss.datasets import load_adult
from sklearn_fairloss.fairness import DistanceCovariance
from sklearn_fairloss.metrics import distance_correlation

X, y = load_adult(return_X_y=True)
X, _, y, _ = train_test_split(X, y, train_size=4000, stratify=y, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.4, stratify=y, random_state=0)
age_train = X_train["age"].to_numpy(dtype=float)
age_test = X_test["age"].to_numpy(dtype=float)
pre = make_column_transformer(
    (StandardScaler(), make_column_selector(dtype_include="number")),
    (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
    sparse_threshold=0,
)
X_train = pre.fit_transform(X_train)
X_test = pre.transform(X_test)

# %%
# Baseline and penalised model
# ----------------------------
fast = dict(hidden_layer_sizes=(32,), batch_size=256, max_epochs=15, lr=3e-3, random_state=0)
models = {
    "baseline": FairLossClassifier(**fast),
    "distance covariance, strength 10": FairLossClassifier(
        fairness=DistanceCovariance(), fairness_strength=10.0, **fast),
}
proba = {}
for name, model in models.items():
    # only the penalised model uses the ages (the baseline would warn that it ignores them)
    groups = None if name == "baseline" else age_train
    model.fit(X_train, y_train, sensitive_features=groups)
    proba[name] = model.predict_proba(X_test)[:, 1]
    accuracy = np.mean(model.predict(X_test) == y_test)
    print(f"{name:34s} accuracy {accuracy:.3f}, distance correlation with age "
          f"{distance_correlation(proba[name], age_test):.3f}")

# %%
# Mean predicted probability by age
# ---------------------------------
# The baseline's probability of high income rises steeply with age up to about 50; the
# penalised model's curve is much flatter. The grey line is the observed rate.
bands = pd.cut(age_test, bins=[16, 25, 30, 35, 40, 45, 50, 55, 60, 70, 91])
centers = np.array([b.mid for b in bands.categories])
fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
observed = pd.Series(y_test).groupby(bands, observed=False).mean()
ax.plot(centers, observed.to_numpy(), color="grey", ls="--", label="observed rate")
for name, p in proba.items():
    ax.plot(centers, pd.Series(p).groupby(bands, observed=False).mean().to_numpy(), "o-",
            label=name)
ax.set_xlabel("age (band centre)")
ax.set_ylabel("mean P(income > 50K)")
ax.legend(fontsize="small")
ax.set_title("Adult: predictions against age")
plt.show()
