"""
Imbalanced detection with decision rules
========================================

When one class is rare (here: 5 % of the rows), a classifier that predicts the most probable
class rarely predicts the rare one. The usual remedies reweight or resample the training data,
which distorts the predicted probabilities. ``FairLossClassifier`` keeps the loss
(cross-entropy) and changes only the **decision rule**: ``decision="balanced"`` divides the
probabilities by the class priors before taking the largest, ``decision="f1"`` tunes a
threshold on the held-out split.

Baseline: scikit-learn's :class:`~sklearn.linear_model.LogisticRegression`, plain and with
``class_weight="balanced"``. We compare balanced accuracy (the decisions) and the Brier score
(the probabilities). See :doc:`/user_guide/choosing_a_loss` for the measured numbers on the
full data.
"""

# %%
# Adult with 5 % positives (a subsample)
# --------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, brier_score_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss.datasets import load_adult

X, y = load_adult(return_X_y=True)
rng = np.random.default_rng(0)
negatives = np.flatnonzero(y == 0)
positives = np.flatnonzero(y == 1)
n_neg = 4750
keep = np.concatenate([rng.choice(negatives, n_neg, replace=False),
                       rng.choice(positives, n_neg * 5 // 95, replace=False)])
X, y = X.iloc[keep], y[keep]
print(f"{len(y)} rows, {y.mean():.1%} positive")

X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.4, stratify=y, random_state=0)
pre = make_column_transformer(
    (StandardScaler(), make_column_selector(dtype_include="number")),
    (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
    sparse_threshold=0,
)
X_train = pre.fit_transform(X_train)
X_test = pre.transform(X_test)

# %%
# Models
# ------
# One network per decision rule; the loss is cross-entropy in all three.
fast = dict(hidden_layer_sizes=(32,), batch_size=256, max_epochs=15, lr=3e-3, random_state=0)
models = {
    "LogReg": LogisticRegression(max_iter=1000),
    "LogReg class_weight=balanced": LogisticRegression(max_iter=1000, class_weight="balanced"),
    "FairLoss argmax": FairLossClassifier(**fast),
    'FairLoss decision="balanced"': FairLossClassifier(decision="balanced", **fast),
    'FairLoss decision="f1"': FairLossClassifier(decision="f1", **fast),
}
rows = []
for name, model in models.items():
    model.fit(X_train, y_train)
    y_pred = model.predict(X_test)
    proba = model.predict_proba(X_test)[:, 1]
    rows.append((name, balanced_accuracy_score(y_test, y_pred),
                 brier_score_loss(y_test, proba), np.mean(y_pred)))
    print(f"{name:32s} balanced accuracy {rows[-1][1]:.3f}  Brier {rows[-1][2]:.4f}  "
          f"predicted positive {rows[-1][3]:.1%}")

# %%
# Decisions against probabilities
# -------------------------------
# Left: balanced accuracy of the decisions (higher is better). Right: Brier score of
# ``predict_proba`` (lower is better). Class weights buy the logistic regression its balanced
# accuracy with a much worse Brier score; the network's decision rules change only the
# decisions, so all three networks keep the Brier score of the plain one. A tuned F1
# threshold optimises F1, not balanced accuracy: it flags fewer rows.
names = [r[0] for r in rows]
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained", sharey=True)
colors = ["#999999", "#666666", "#9ecae1", "#3182bd", "#08519c"]
axes[0].barh(names, [r[1] for r in rows], color=colors)
axes[0].set_xlabel("balanced accuracy (test)")
axes[0].set_xlim(0.5, 0.9)
axes[1].barh(names, [r[2] for r in rows], color=colors)
axes[1].set_xlabel("Brier score (test)")
axes[0].invert_yaxis()
fig.suptitle("Adult, 5 % positives")
plt.show()
