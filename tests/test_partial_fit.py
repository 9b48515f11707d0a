"""FairLossClassifier.partial_fit: scikit-learn's contract, training over chunks, and the
fairness and weighting terms per chunk (issue 17)."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.metrics import log_loss
from sklearn.utils.validation import check_is_fitted

from sklearn_fairloss import FairLossClassifier


def _model(**params):
    # partial_fit has no early stopping: the periodic embeddings' default scale (10, chosen
    # under early stopping) overfits these 2,000 rows within 20 passes, so the tests use 1
    # (docs/user_guide/streaming.md says the same)
    defaults = dict(hidden_layer_sizes=(16,), feature_scaling="standard", batch_size=128,
                    lr=3e-3, embedding_scale=1.0, random_state=0)
    return FairLossClassifier(**{**defaults, **params})


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=3000, n_features=8, n_informative=5,
                               random_state=0)
    return X[:2000], y[:2000], X[2000:], y[2000:]


def _stream(clf, X, y, n_chunks, n_passes, **kwargs):
    for _ in range(n_passes):
        for chunk in np.array_split(np.arange(len(y)), n_chunks):
            clf.partial_fit(X[chunk], y[chunk], classes=[0, 1],
                            **{k: (v[chunk] if isinstance(v, np.ndarray) else v)
                               for k, v in kwargs.items()})
    return clf


def test_first_call_needs_classes_and_stays_unfitted(data):
    X, y, _, _ = data
    clf = _model()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.partial_fit(X, y, classes=[1])


def test_classes_cannot_change_and_labels_must_be_listed(data):
    X, y, _, _ = data
    clf = _model().partial_fit(X[:500], y[:500], classes=[0, 1])
    with pytest.raises(ValueError, match=r"classes=\[0, 1, 2\] differs"):
        clf.partial_fit(X[:500], y[:500], classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"label\(s\) \[7\] that are not in classes"):
        clf.partial_fit(X[:3], np.array([0, 7, 1]))
    with pytest.raises(ValueError, match=r"label\(s\) \[2\] that are not in classes"):
        _model().partial_fit(X[:3], np.array([0, 2, 1]), classes=[0, 1])


def test_n_features_cannot_change(data):
    X, y, _, _ = data
    clf = _model().partial_fit(X[:500], y[:500], classes=[0, 1])
    with pytest.raises(ValueError, match="X has 7 features, but FairLossClassifier is "
                                         "expecting 8 features as input"):
        clf.partial_fit(X[:500, :-1], y[:500])


def test_a_chunk_of_one_class_trains(data):
    X, y, _, _ = data
    clf = _model().partial_fit(X[y == 0][:100], y[y == 0][:100], classes=[0, 1])
    clf.partial_fit(X[y == 1][:100], y[y == 1][:100])
    assert clf.n_iter_ == 2 and clf.predict_proba(X[:5]).shape == (5, 2)


def test_two_half_chunks_approach_a_fit_on_all_rows(data):
    X, y, X_test, y_test = data
    # the same number of optimizer steps over the same rows: the same quality, on average
    # over seeds (one seed's accuracy moves by about 0.015)
    scores = {"stream": [], "fit": []}
    for seed in range(3):
        streamed = _stream(_model(random_state=seed), X, y, n_chunks=2, n_passes=20)
        full = _model(random_state=seed, max_epochs=20, early_stopping=False,
                      tol=0.0).fit(X, y)
        assert streamed.n_iter_ == 40 and full.n_iter_ == 20
        for name, clf in (("stream", streamed), ("fit", full)):
            scores[name].append((clf.score(X_test, y_test),
                                 log_loss(y_test, clf.predict_proba(X_test))))
    stream, full = np.mean(scores["stream"], axis=0), np.mean(scores["fit"], axis=0)
    assert abs(stream[0] - full[0]) <= 0.02
    assert abs(stream[1] - full[1]) <= 0.03
    assert stream[0] > 0.85  # well above the base rate: it did learn


def test_same_calls_same_model(data):
    X, y, X_test, _ = data
    a = _stream(_model(), X, y, n_chunks=4, n_passes=2)
    b = _stream(_model(), X, y, n_chunks=4, n_passes=2)
    np.testing.assert_array_equal(a.predict_proba(X_test), b.predict_proba(X_test))


def _biased(seed=0, n=4000):
    """A protected group with a higher positive rate, visible through a feature."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    X = rng.standard_normal((n, 4))
    X[:, 0] += 1.5 * group
    y = (X[:, 0] + X[:, 1] + 0.5 * rng.standard_normal(n) > 0.75).astype(int)
    return X, y, group


def _dp(pred, group):
    # demographic parity difference by hand: the gap between the groups' positive rates
    return abs(pred[group == 0].mean() - pred[group == 1].mean())


def test_a_fairness_penalty_in_partial_fit_moves_demographic_parity():
    X, y, group = _biased()
    kwargs = dict(n_chunks=4, n_passes=6, sensitive_features=group)
    plain = _stream(_model(), X, y, n_chunks=4, n_passes=6)
    fair = _stream(_model(fairness="demographic_parity", fairness_strength=5.0,
                          batch_sampler="stratified"), X, y, **kwargs)
    dp_plain, dp_fair = _dp(plain.predict(X), group), _dp(fair.predict(X), group)
    assert dp_plain > 0.3
    assert dp_fair < 0.5 * dp_plain
    assert "fairness_penalty" in fair.history_


def test_sample_weight_accumulates_into_the_class_prior(data):
    X, y, _, _ = data
    w = np.where(y == 1, 3.0, 1.0)
    clf = _stream(_model(), X, y, n_chunks=3, n_passes=1, sample_weight=w)
    expected = np.array([np.sum(w[y == 0]), np.sum(w[y == 1])]) / w.sum()  # hand computed
    np.testing.assert_allclose(clf.class_prior_, expected)


def test_class_weight_dict_shift_is_undone_at_predict(data):
    # a class weight shifts the trained prior; the prior correction must bring the mean
    # predicted probability back near the data's positive rate
    X, y, X_test, y_test = data
    clf = _stream(_model(class_weight={0: 1.0, 1: 4.0}), X, y, n_chunks=2, n_passes=8)
    assert abs(clf.predict_proba(X_test)[:, 1].mean() - y_test.mean()) < 0.05


def test_groups_come_from_the_first_call():
    X, y, group = _biased()
    clf = _model(fairness="demographic_parity")
    clf.partial_fit(X[group == 0][:200], y[group == 0][:200], classes=[0, 1],
                    sensitive_features=group[group == 0][:200])
    before = clf.predict_proba(X[:20])
    n_iter = clf.n_iter_
    with pytest.raises(ValueError, match=r"group\(s\) \[1\] not seen during fit.*first "
                                         "partition holds every group"):
        clf.partial_fit(X[:200], y[:200], sensitive_features=group[:200])
    with pytest.raises(ValueError, match="pass them to every call"):
        clf.partial_fit(X[:200], y[:200])
    # a failed later call leaves the model as it was
    assert clf.n_iter_ == n_iter
    np.testing.assert_array_equal(clf.predict_proba(X[:20]), before)


def test_sensitive_columns_named_in_the_first_call_are_remembered():
    X, y, group = _biased()
    frame = pd.DataFrame(X, columns=list("abcd")).assign(g=group)
    clf = _model(fairness="demographic_parity", sensitive_as_input=False)
    clf.partial_fit(frame[:1000], y[:1000], classes=[0, 1], sensitive_features="g")
    clf.partial_fit(frame[1000:2000], y[1000:2000])
    assert clf.sensitive_names_ == ["g"] and list(clf.feature_names_in_) == list("abcd")
    assert clf.predict(frame[:5]).shape == (5,)


@pytest.mark.parametrize("params, match", [
    (dict(post_calibration="temperature"), "post_calibration='temperature' is fitted on "
                                           "held-out rows"),
    (dict(decision="f1"), "decision='f1' is fitted on the training or held-out rows"),
    (dict(class_weight="balanced"), "class_weight='balanced' needs the class counts"),
    (dict(fairness="demographic_parity", fairness_bound=0.05), "fairness_bound certifies"),
])
def test_settings_that_need_held_out_rows_are_refused(data, params, match):
    X, y, _, _ = data
    clf = _model(**params)
    with pytest.raises(ValueError, match=match):
        clf.partial_fit(X[:200], y[:200], classes=[0, 1])
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


def test_partial_fit_continues_a_fit(data):
    X, y, _, _ = data
    clf = _model(max_epochs=3, early_stopping=True).fit(X, y)
    n_iter = clf.n_iter_
    clf.partial_fit(X[:500], y[:500])
    assert clf.n_iter_ == n_iter + 1
    clf.fit(X, y)  # a refit ends the stream
    assert not hasattr(clf, "_stream")


def test_the_fitted_model_does_not_carry_training_rows(data):
    X, y, _, _ = data
    X_big = np.repeat(X, 10, axis=0).astype(np.float32)  # 20000 x 8 float32: 640 kB
    y_big = np.repeat(y, 10)
    for clf in (_model(max_epochs=1).fit(X_big, y_big),
                _model().partial_fit(X_big, y_big, classes=[0, 1])):
        assert len(pickle.dumps(clf)) < X_big.nbytes / 4
