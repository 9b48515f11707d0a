"""Fair credit scoring on German credit, end to end.

A Pipeline with a ColumnTransformer and a FairLossClassifier trained with a demographic-parity
penalty between sexes, a fairness scorer in cross-validation that reads the groups from the
raw X, and a per-group report with probabilities (Brier, ROC AUC) by sex. Runs offline on the
bundled data in a few seconds:

    .venv/bin/python examples/fair_credit_german.py
"""

from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss.datasets import load_german
from sklearn_fairloss.fairness import DemographicParity
from sklearn_fairloss.metrics import group_report, make_fairness_scorer


def main():
    X, y, sex = load_german(return_sensitive="sex")
    X = X.drop(columns=["personal_status_sex"])  # it encodes sex too
    X_train, X_test, y_train, y_test, sex_train, sex_test = train_test_split(
        X, y, sex, test_size=0.3, stratify=y, random_state=0)

    pre = make_column_transformer(
        (StandardScaler(), make_column_selector(dtype_include="number")),
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
    )

    def model(strength):
        return make_pipeline(pre, FairLossClassifier(
            hidden_layer_sizes=(32,), lr=3e-3, max_epochs=60, early_stopping=True,
            fairness=DemographicParity(), fairness_strength=strength,
            random_state=0))

    # demographic parity difference between sexes, read from the "sex" column of the raw X
    dp = make_fairness_scorer("demographic_parity_difference", sensitive_features="sex",
                              greater_is_better=False)
    for strength in (0.0, 2.0):
        scores = cross_val_score(model(strength), X_train, y_train, cv=3, scoring=dp,
                                 params={"fairlossclassifier__sensitive_features": sex_train})
        print(f"fairness_strength={strength}: cross-validated DP difference "
              f"{-scores.mean():.3f}")

    clf = model(2.0).fit(X_train, y_train, fairlossclassifier__sensitive_features=sex_train)
    report = group_report(y_test, clf.predict(X_test), y_proba=clf.predict_proba(X_test)[:, 1],
                          sensitive_features=sex_test)
    print(report.round(3).to_string())


if __name__ == "__main__":
    main()
