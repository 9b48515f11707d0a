"""FairLossClassifier: training, weights, sensitive features, routing, persistence, errors."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn import config_context
from sklearn.compose import make_column_transformer
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss._net import FairLossNet, TensorBatchIterator, TensorRows
from sklearn_fairloss.losses import CrossEntropyLoss

# The engine's contracts (weights, batches, the logistic-regression limit) are checked on the
# plain network: features as given, no embedding (tests/test_backbone.py covers the rest).
PLAIN = dict(numerical_embedding=None, feature_scaling=None, early_stopping=False,
             linear_start=False)
FAST = dict(hidden_layer_sizes=(16,), max_epochs=20, lr=1e-2, batch_size=64, random_state=0,
            **PLAIN)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, random_state=0)
    group = (X[:, 0] > 0).astype(int)
    return X, y, group


def test_full_batch_logistic_regression_matches_sklearn():
    # With no hidden layer the network is a multinomial logistic regression; trained
    # full-batch to convergence it must find scikit-learn's unpenalised solution.
    X, y = make_classification(n_samples=200, n_features=4, n_informative=3, n_redundant=0,
                               class_sep=0.5, random_state=1)
    X = StandardScaler().fit_transform(X)
    ours = FairLossClassifier(hidden_layer_sizes=(), lr=0.05, batch_size=1000, max_epochs=1500,
                              tol=0.0, n_iter_no_change=1500, random_state=0, **PLAIN).fit(X, y)
    ref = LogisticRegression(penalty=None, tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=2e-3)


def test_sample_weight_two_equals_duplicated_row():
    # Full-batch training: weight 2 on a row gives the same model as repeating the row,
    # because the data loss is sum(w * loss) / sum(w).
    X, y = make_classification(n_samples=60, n_features=5, random_state=3)
    w = np.ones(len(y))
    w[[0, 7]] = 2.0
    X_dup = np.vstack([X, X[[0, 7]]])
    y_dup = np.concatenate([y, y[[0, 7]]])
    params = dict(hidden_layer_sizes=(8,), batch_size=1000, max_epochs=40, tol=0.0,
                  n_iter_no_change=40, random_state=0, **PLAIN)
    weighted = FairLossClassifier(**params).fit(X, y, sample_weight=w)
    duplicated = FairLossClassifier(**params).fit(X_dup, y_dup)
    np.testing.assert_allclose(weighted.predict_proba(X), duplicated.predict_proba(X),
                               atol=1e-5)
    unweighted = FairLossClassifier(**params).fit(X, y)
    assert np.abs(unweighted.predict_proba(X) - weighted.predict_proba(X)).max() > 1e-4


def test_training_loss_is_weighted_mean_of_row_losses():
    # One epoch with lr ~ 0: the recorded loss is the weighted mean of the initial model's
    # per-row cross-entropy, computed here by hand from the module's logits.
    X, y = make_classification(n_samples=50, n_features=4, random_state=2)
    w = np.random.default_rng(0).uniform(0.1, 3.0, size=len(y))
    clf = FairLossClassifier(hidden_layer_sizes=(4,), lr=1e-12, batch_size=1000, max_epochs=1,
                             random_state=0, **PLAIN).fit(X, y, sample_weight=w)
    logits = clf.net_.predict_logits(X.astype(np.float32))
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    row_loss = -log_p[np.arange(len(y)), y]
    expected = np.sum(w * row_loss) / np.sum(w)
    assert clf.history_["train_loss"].iloc[0] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    "labels",
    [np.array(["no", "yes"]), np.array([False, True]), np.array([3, 7]),
     np.array(["a", "b", "c"])],
    ids=["str", "bool", "int", "multiclass"],
)
def test_label_types(labels):
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4,
                               n_classes=len(labels), random_state=0)
    y_labels = labels[y]
    clf = FairLossClassifier(**FAST).fit(X, y_labels)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    assert set(clf.predict(X)) <= set(labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (150, len(labels))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)
    assert clf.score(X, y_labels) > 0.7


def test_decision_function_is_positive_margin(data):
    X, y, _ = data
    clf = FairLossClassifier(**FAST).fit(X, y)
    margin = clf.decision_function(X)
    assert margin.shape == (len(y),)
    np.testing.assert_allclose(1 / (1 + np.exp(-margin)), clf.predict_proba(X)[:, 1],
                               rtol=1e-6)


def test_pandas_input_and_float64_cast(data):
    X, y, _ = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = FairLossClassifier(**FAST).fit(frame, pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    assert clf.n_features_in_ == X.shape[1]
    # float64 numpy and the DataFrame give the same model (cast to float32, not rejected)
    np.testing.assert_allclose(clf.predict_proba(frame),
                               FairLossClassifier(**FAST).fit(X, y).predict_proba(X))


def test_same_random_state_same_model(data):
    X, y, _ = data
    a = FairLossClassifier(**FAST, dropout=0.2).fit(X, y).predict_proba(X)
    b = FairLossClassifier(**FAST, dropout=0.2).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = FairLossClassifier(**{**FAST, "random_state": 1}, dropout=0.2).fit(X, y)
    assert np.abs(c.predict_proba(X) - a).max() > 1e-4


def test_fit_leaves_global_torch_rng_untouched(data):
    X, y, _ = data
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    FairLossClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_history_and_early_stopping():
    X, y = make_classification(n_samples=400, n_features=10, flip_y=0.3, random_state=0)
    clf = FairLossClassifier(hidden_layer_sizes=(64, 64), lr=1e-2, max_epochs=200,
                             early_stopping=True, n_iter_no_change=5, random_state=0).fit(X, y)
    assert list(clf.history_.columns) == ["epoch", "train_loss", "valid_loss", "dur"]
    assert clf.n_iter_ == len(clf.history_) < 200
    # stopped after n_iter_no_change epochs without a better validation loss
    best = int(clf.history_["valid_loss"].to_numpy().argmin())
    assert clf.n_iter_ - 1 - best == 5
    plain = FairLossClassifier(**FAST).fit(X, y)
    assert list(plain.history_.columns) == ["epoch", "train_loss", "dur"]


def test_verbose_prints_epochs_and_default_is_silent(data, capsys):
    X, y, _ = data
    FairLossClassifier(**FAST).fit(X, y)
    assert capsys.readouterr().out == ""
    FairLossClassifier(**{**FAST, "max_epochs": 3}, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and out.count("\n") >= 5


def test_class_weight(data):
    X, y, _ = data
    y = y.copy()
    y[:120] = 0  # imbalance: about 25% positives
    base = FairLossClassifier(**FAST).fit(X, y)
    balanced = FairLossClassifier(**FAST, class_weight="balanced").fit(X, y)
    counts = np.bincount(y)
    class_w = len(y) / (2 * counts)
    as_weights = FairLossClassifier(**FAST).fit(X, y, sample_weight=class_w[y])
    # class weights train the same network as the equivalent row weights ...
    np.testing.assert_allclose(balanced.net_.predict_logits(X.astype(np.float32)),
                               as_weights.net_.predict_logits(X.astype(np.float32)), atol=1e-5)
    # ... and predict as scikit-learn's class_weight does (more minority predictions) ...
    np.testing.assert_array_equal(balanced.predict(X), as_weights.predict(X))
    assert (balanced.predict(X) == 1).sum() > (base.predict(X) == 1).sum()
    # ... but predict_proba undoes the prior shift: softmax(logits - log w), so the mean
    # predicted probability matches the data's positive rate again (calibration in the large)
    logits = as_weights.net_.predict_logits(X.astype(np.float32)) - np.log(class_w)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(balanced.predict_proba(X), expected, atol=1e-5)
    assert abs(balanced.predict_proba(X)[:, 1].mean() - y.mean()) < 0.05
    assert as_weights.predict_proba(X)[:, 1].mean() - y.mean() > 0.1
    by_dict = FairLossClassifier(**FAST, class_weight={0: 1.0, 1: 3.0}).fit(X, y)
    as_dict_weights = FairLossClassifier(**FAST).fit(X, y, sample_weight=np.where(y == 1, 3, 1))
    np.testing.assert_array_equal(by_dict.predict(X), as_dict_weights.predict(X))


def test_loss_object_is_cloned_and_tunable(data):
    X, y, _ = data
    loss = CrossEntropyLoss(label_smoothing=0.1)
    clf = FairLossClassifier(**FAST, loss=loss).fit(X, y)
    assert clf.loss_ is not loss and clf.loss_.label_smoothing == 0.1
    assert clf.get_params()["loss__label_smoothing"] == 0.1
    clf.set_params(loss__label_smoothing=0.2)
    assert loss.label_smoothing == 0.2  # set_params acts on the parameter object itself
    grid = GridSearchCV(FairLossClassifier(**FAST),
                        {"loss": ["cross_entropy", CrossEntropyLoss(label_smoothing=0.05)]},
                        cv=2).fit(X, y)
    assert len(grid.cv_results_["params"]) == 2


# ----------------------------------------------------------------- sensitive features


def test_batches_carry_aligned_rows():
    n = 103
    X = torch.arange(n, dtype=torch.float32)[:, None].repeat(1, 3)
    rows = TensorRows(X, torch.arange(n) % 2, torch.arange(n, dtype=torch.float32),
                      {"sensitive": torch.arange(n)[:, None] * 10})
    seen = []
    iterator = TensorBatchIterator(rows, batch_size=16, shuffle=True,
                                   generator=torch.Generator().manual_seed(0))
    for X_dict, y in iterator:
        ids = X_dict["X"][:, 0].long()
        assert torch.equal(y, ids % 2)
        assert torch.equal(X_dict["sample_weight"].long(), ids)
        assert torch.equal(X_dict["sensitive"][:, 0], ids * 10)
        seen.append(ids)
    assert len(iterator) == 7
    all_ids = torch.cat(seen)
    assert sorted(all_ids.tolist()) == list(range(n))
    assert all_ids.tolist() != list(range(n))  # shuffled


@pytest.mark.parametrize("kind", ["list", "ndarray", "series", "2d", "frame"])
def test_sensitive_feature_inputs(data, kind):
    X, y, group = data
    race = np.where(X[:, 1] > 0.5, "b", "a")
    sensitive = {
        "list": group.tolist(),
        "ndarray": group,
        "series": pd.Series(group, name="sex"),
        "2d": np.column_stack([group, race]),
        "frame": pd.DataFrame({"sex": group, "race": race}),
    }[kind]
    clf = FairLossClassifier(**FAST).fit(X, y, sensitive_features=sensitive)
    n_attributes = 2 if kind in ("2d", "frame") else 1
    assert len(clf.sensitive_groups_) == n_attributes
    assert len(clf.sensitive_groups_[0]) == 2
    if kind == "series":
        assert clf.sensitive_names_ == ["sex"]


def test_sensitive_codes_and_values_reach_the_batches(data, monkeypatch):
    X, y, _ = data
    age = np.round(np.abs(X[:, 2]) * 20 + 20)
    sex = np.where(X[:, 0] > 0, "F", "M")
    batches = []
    original = FairLossNet.get_loss

    def recording_get_loss(net, y_pred, y_true, X=None, training=False):
        batches.append((X, y_true))
        return original(net, y_pred, y_true, X=X, training=training)

    monkeypatch.setattr(FairLossNet, "get_loss", recording_get_loss)
    w = np.arange(len(y), dtype=float) + 1  # the weight identifies the row
    FairLossClassifier(**{**FAST, "max_epochs": 2}).fit(
        X, y, sample_weight=w, sensitive_features=pd.DataFrame({"sex": sex, "age": age}))
    assert len(batches) == 2 * int(np.ceil(len(y) / FAST["batch_size"]))
    for X_dict, y_batch in batches:
        row = X_dict["sample_weight"].numpy().astype(int) - 1
        np.testing.assert_allclose(X_dict["X"].numpy(), X[row].astype(np.float32))
        np.testing.assert_array_equal(y_batch.numpy(), y[row])
        np.testing.assert_array_equal(X_dict["sensitive"][:, 0].numpy(), sex[row] == "M")
        np.testing.assert_array_equal(X_dict["sensitive_values"][:, 1].numpy(), age[row])
        assert X_dict["sensitive"].dtype == torch.int64


def test_sensitive_column_names(data):
    X, y, group = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["sex"] = group
    kept = FairLossClassifier(**FAST).fit(frame, y, sensitive_features="sex")
    assert kept.n_features_in_ == X.shape[1] + 1
    dropped = FairLossClassifier(**FAST, sensitive_as_input=False).fit(
        frame, y, sensitive_features=["sex"])
    assert dropped.n_features_in_ == X.shape[1]
    assert "sex" not in dropped.feature_names_in_
    # predict accepts the frame with or without the sensitive column
    np.testing.assert_array_equal(dropped.predict(frame), dropped.predict(frame.drop(
        columns="sex")))
    np.testing.assert_allclose(
        dropped.predict_proba(frame),
        FairLossClassifier(**FAST).fit(frame.drop(columns="sex"), y).predict_proba(
            frame.drop(columns="sex")))
    # a string column can be the sensitive attribute when it is not a model input
    frame["sex"] = np.where(group == 1, "F", "M")
    clf = FairLossClassifier(**FAST, sensitive_as_input=False).fit(
        frame, y, sensitive_features="sex")
    assert clf.sensitive_groups_[0].tolist() == ["F", "M"]


def test_pipeline_step_param_without_routing(data):
    X, y, group = data
    pipe = make_pipeline(StandardScaler(), FairLossClassifier(**FAST))
    pipe.fit(X, y, fairlossclassifier__sensitive_features=group,
             fairlossclassifier__sample_weight=np.ones(len(y)))
    assert pipe[-1].sensitive_groups_[0].tolist() == [0, 1]


def test_metadata_routing_in_pipeline_and_gridsearch(data):
    X, y, group = data
    w = np.where(group == 1, 2.0, 1.0)
    with config_context(enable_metadata_routing=True):
        clf = FairLossClassifier(**FAST).set_fit_request(sensitive_features=True,
                                                         sample_weight=True)
        clf.set_score_request(sample_weight=True)
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), clf)
        grid = GridSearchCV(pipe, {"fairlossclassifier__lr": [1e-3, 1e-2]}, cv=3)
        grid.fit(X, y, sensitive_features=group, sample_weight=w)
        assert grid.best_estimator_[-1].sensitive_groups_[0].tolist() == [0, 1]
        # the routed weights reach the classifier: same model as fitting it directly
        direct = make_pipeline(StandardScaler(), FairLossClassifier(
            **{**FAST, "lr": grid.best_params_["fairlossclassifier__lr"]}))
    direct.fit(X, y, fairlossclassifier__sample_weight=w,
               fairlossclassifier__sensitive_features=group)
    np.testing.assert_allclose(grid.predict_proba(X), direct.predict_proba(X), atol=1e-6)


def test_column_transformer_pipeline_on_frame():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.integers(18, 80, 200).astype(float),
                          "job": rng.choice(["a", "b", "c"], 200)})
    y = (frame["age"] > 45).astype(int).to_numpy()
    pre = make_column_transformer((StandardScaler(), ["age"]), (OneHotEncoder(), ["job"]))
    pipe = make_pipeline(pre, FairLossClassifier(**{**FAST, "max_epochs": 60}))
    pipe.fit(frame, y, fairlossclassifier__sensitive_features=frame["job"])
    assert pipe.score(frame, y) > 0.9


# ------------------------------------------------------------------------ persistence


def test_pickle_and_joblib_round_trip(data, tmp_path):
    X, y, group = data
    clf = FairLossClassifier(**FAST).fit(X, y, sensitive_features=group)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    # the loss and fairness views are restored from the net, not pickled twice
    assert restored.loss_ is restored.net_.criterion_.loss
    path = tmp_path / "model.joblib"
    joblib.dump(clf, path)
    np.testing.assert_array_equal(joblib.load(path).predict_proba(X), clf.predict_proba(X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_model_predicts_on_cpu(data):
    X, y, _ = data
    clf = FairLossClassifier(**FAST, device="cuda").fit(X, y)
    assert clf.net_.device == "cuda"
    restored = pickle.loads(pickle.dumps(clf))
    restored.net_.module_.to("cpu")
    restored.net_.device = "cpu"
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X), atol=1e-5)


def test_device_auto_resolves():
    X, y = make_classification(n_samples=40, random_state=0)
    clf = FairLossClassifier(**{**FAST, "max_epochs": 1}).fit(X, y)
    assert clf.net_.device == ("cuda" if torch.cuda.is_available() else "cpu")


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "bad, message",
    [
        ("nan", "Input X contains NaN"),
        ("inf", "Input X contains infinity"),
        ("short_y", "y has 9 rows but X has 10 rows"),
        ("short_weight", "sample_weight has 9 rows but X has 10 rows"),
        ("negative_weight", "sample_weight must be finite and non-negative"),
        ("zero_weight", "sample_weight sums to zero"),
        ("one_class", "at least 2 classes in y"),
        ("short_sensitive", "sensitive_features has 9 rows but X has 10 rows"),
        ("nan_sensitive", "sensitive_features contains missing values"),
        ("missing_column", "sensitive_features names columns \\['race'\\] that are not in X"),
        ("names_with_array", "sensitive_features='sex' names columns, which needs X to be"),
        ("continuous_y", "Unknown label type"),
    ],
)
def test_bad_input_errors_name_the_argument(bad, message):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 3))
    y = np.array([0, 1] * 5)
    kwargs = {}
    if bad == "nan":
        X[0, 0] = np.nan
    elif bad == "inf":
        X[0, 0] = np.inf
    elif bad == "short_y":
        y = y[:9]
    elif bad == "short_weight":
        kwargs["sample_weight"] = np.ones(9)
    elif bad == "negative_weight":
        kwargs["sample_weight"] = -np.ones(10)
    elif bad == "zero_weight":
        kwargs["sample_weight"] = np.zeros(10)
    elif bad == "one_class":
        y = np.zeros(10)
    elif bad == "short_sensitive":
        kwargs["sensitive_features"] = np.ones(9)
    elif bad == "nan_sensitive":
        kwargs["sensitive_features"] = np.array([1.0] * 9 + [np.nan])
    elif bad == "missing_column":
        X = pd.DataFrame(X, columns=["a", "b", "sex"])
        kwargs["sensitive_features"] = ["sex", "race"]
    elif bad == "names_with_array":
        kwargs["sensitive_features"] = "sex"
    elif bad == "continuous_y":
        y = rng.normal(size=10)
    with pytest.raises(ValueError, match=message):
        FairLossClassifier(max_epochs=1).fit(X, y, **kwargs)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"loss": "nope"}, "Unknown loss 'nope'"),
        ({"loss": 3}, "loss must be a string alias"),
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes must be a tuple of positive"),
        ({"activation": "swish"}, "activation must be one of"),
        ({"dropout": 1.0}, "dropout must be a number in"),
        ({"lr": 0}, "lr must be a number in"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"max_epochs": 2.5}, "max_epochs must be a positive integer"),
        ({"optimizer": "lbfgs"}, "optimizer must be one of"),
        ({"class_weight": "auto"}, "class_weight must be None, 'balanced' or a dict"),
        ({"class_weight": {5: 2.0}}, "class_weight has keys \\[5\\]"),
        ({"device": "tpu"}, "device must be 'auto' or a torch device"),
        ({"validation_fraction": 1.5, "early_stopping": True}, "validation_fraction must be"),
    ],
)
def test_bad_parameters(params, message):
    X, y = make_classification(n_samples=20, random_state=0)
    with pytest.raises((ValueError, TypeError), match=message):
        FairLossClassifier(max_epochs=1).set_params(**params).fit(X, y)


def test_predict_checks_features(data):
    X, y, _ = data
    clf = FairLossClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features"):
        clf.predict(X[:, :5])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.predict(np.full_like(X, np.nan))


def test_sparse_input_equals_dense(data):
    import scipy.sparse as sp

    X, y, _ = data
    dense = FairLossClassifier(**FAST).fit(X, y)
    sparse = FairLossClassifier(**FAST).fit(sp.csr_matrix(X), y)
    np.testing.assert_array_equal(sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X))


def test_predictions_on_subsets_and_permutations_agree_at_float32_precision(data):
    # scikit-learn's subset-invariance check asks for rtol=1e-7, below float32 rounding
    X, y, _ = data
    clf = FairLossClassifier(**FAST).fit(X, y)
    full = clf.predict_proba(X)
    np.testing.assert_allclose(clf.predict_proba(X[:37]), full[:37], atol=1e-6)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(clf.predict_proba(X[order]), full[order], atol=1e-6)
