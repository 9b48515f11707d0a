"""Fair identity normalisation (FIN, Harvard-GF) against a transcription of the authors' code,
and the estimator's ``identity_normalization=`` end to end.

The reference below is a transcription of ``Fair_Identity_Normalizer.forward`` of the authors'
repository (github.com/Harvard-Ophthalmology-AI-Lab/Harvard-GF, ``src/modules.py``, commit
aec8f70), with its defaults from ``train_glaucoma_fair_fin.py``::

    self.mus = nn.Parameter(torch.randn(self.num_attr, self.dim)*mu)
    self.sigmas = nn.Parameter(torch.randn(self.num_attr, self.dim)*sigma)
    self.eps = 1e-6
    ...
    def forward(self, x, attr):
        x_clone = x.clone()
        for idx in range(x.shape[0]):
            x[idx,:] = (x[idx,:] - self.mus[attr[idx], :])/( torch.log(1+torch.exp(self.sigmas[attr[idx], :])) + self.eps)
        x = (1-self.momentum)*x + self.momentum*x_clone
        return x

    parser.add_argument('--fin_mu', default=0.01, type=float)
    parser.add_argument('--fin_sigma', default=1., type=float)
    parser.add_argument('--fin_momentum', default=0.3, type=float)
"""  # noqa: E501 (the authors' lines as they are)

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from torch.func import functional_call

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss._prepare import encode_features
from sklearn_fairloss.fairness import FairIdentityNormalizer
from sklearn_fairloss.losses import CaPELoss


def authors_fin(x, attr, mus, sigmas, momentum, eps=1e-6):
    """The authors' forward, line by line (on a copy: theirs writes into its input)."""
    x = x.clone()
    x_clone = x.clone()
    for idx in range(x.shape[0]):
        x[idx, :] = (x[idx, :] - mus[attr[idx], :]) / (
            torch.log(1 + torch.exp(sigmas[attr[idx], :])) + eps)
    x = (1 - momentum) * x + momentum * x_clone
    return x


def _module(n_groups=3, n_features=5, seed=0, **kwargs):
    torch.manual_seed(seed)
    fin = FairIdentityNormalizer(n_groups, n_features, **kwargs).double()
    with torch.no_grad():  # parameters away from their start, so every term matters
        fin.mus.copy_(torch.randn(n_groups, n_features, dtype=torch.float64))
        fin.sigmas.copy_(2 * torch.randn(n_groups, n_features, dtype=torch.float64))
    return fin


@pytest.mark.parametrize("momentum", [0.3, 0.0, 0.7, 1.0])
def test_forward_equals_the_authors_formula(momentum):
    fin = _module(momentum=momentum)
    generator = torch.Generator().manual_seed(1)
    x = 3 * torch.randn(40, 5, generator=generator, dtype=torch.float64)
    attr = torch.randint(0, 3, (40,), generator=generator)
    expected = authors_fin(x, attr, fin.mus.detach(), fin.sigmas.detach(), momentum)
    torch.testing.assert_close(fin(x, attr), expected, rtol=1e-12, atol=1e-12)


def test_defaults_and_start_are_the_authors():
    torch.manual_seed(0)
    fin = FairIdentityNormalizer(2, 20_000)
    assert fin.momentum == 0.3 and fin.eps == 1e-6
    assert fin.mus.shape == fin.sigmas.shape == (2, 20_000)
    # randn * 0.01 and randn * 1.0 (--fin_mu, --fin_sigma)
    mus, sigmas = fin.mus.detach(), fin.sigmas.detach()
    assert abs(float(mus.std()) - 0.01) < 5e-4 and abs(float(mus.mean())) < 5e-4
    assert abs(float(sigmas.std()) - 1.0) < 0.03 and abs(float(sigmas.mean())) < 0.03
    # the default momentum, checked against the transcription with the authors' 0.3
    fin = fin.double()
    x = torch.randn(6, 20_000, dtype=torch.float64)
    attr = torch.tensor([0, 1, 0, 1, 1, 0])
    torch.testing.assert_close(fin(x, attr),
                               authors_fin(x, attr, mus.double(), sigmas.double(), 0.3))


def test_every_term_is_needed():
    """The transcription tells the formula from its plausible slips: no momentum mix, no
    softplus (the raw sigma, or exp), no eps position change, and another row's group."""
    fin = _module(momentum=0.3)
    x, attr = torch.randn(30, 5, dtype=torch.float64), torch.arange(30) % 3
    got = fin(x, attr).detach()
    mus, sigmas = fin.mus.detach(), fin.sigmas.detach()
    slips = [
        (x - mus[attr]) / (torch.nn.functional.softplus(sigmas[attr]) + 1e-6),  # no mixing
        0.7 * (x - mus[attr]) / (sigmas[attr].abs() + 1e-6) + 0.3 * x,  # no softplus
        0.3 * (x - mus[attr]) / (torch.nn.functional.softplus(sigmas[attr]) + 1e-6) + 0.7 * x,
        authors_fin(x, (attr + 1) % 3, mus, sigmas, 0.3),
    ]
    for slip in slips:
        assert not torch.allclose(got, slip, atol=1e-3)
    torch.testing.assert_close(got, authors_fin(x, attr, mus, sigmas, 0.3))


def test_unseen_group_gets_the_weighted_average_of_the_known_groups():
    weights = np.array([1.0, 3.0, 6.0])
    fin = _module(group_weights=weights)
    x = torch.randn(4, 5, dtype=torch.float64)
    got = fin(x, torch.tensor([-1, 0, -1, 2]))
    mus, sigmas = fin.mus.detach(), fin.sigmas.detach()
    per_group = [authors_fin(x, torch.full((4,), g), mus, sigmas, 0.3) for g in range(3)]
    average = sum(w / weights.sum() * out for w, out in zip(weights, per_group))
    torch.testing.assert_close(got[[0, 2]], average[[0, 2]])
    torch.testing.assert_close(got[1], per_group[0][1])
    torch.testing.assert_close(got[3], per_group[2][3])


def test_gradcheck():
    fin = _module(n_groups=3, n_features=4)
    x = torch.randn(7, 4, dtype=torch.float64, requires_grad=True)
    groups = torch.tensor([0, 1, 2, -1, 1, 0, -1])

    def forward(x, mus, sigmas):
        return functional_call(fin, {"mus": mus, "sigmas": sigmas}, (x, groups))

    mus = fin.mus.detach().clone().requires_grad_()
    sigmas = fin.sigmas.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(forward, (x, mus, sigmas))


def test_module_errors():
    fin = FairIdentityNormalizer(2, 3)
    with pytest.raises(ValueError, match="needs the group of each row"):
        fin(torch.ones(2, 3), None)
    with pytest.raises(ValueError, match="momentum must be in"):
        FairIdentityNormalizer(2, 3, momentum=1.5)
    with pytest.raises(ValueError, match="group_weights must hold 2"):
        FairIdentityNormalizer(2, 3, group_weights=[1.0, 1.0, 1.0])


# --- the estimator ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=600, n_features=6, n_informative=4, random_state=0)
    group = np.where(np.random.default_rng(0).random(600) < 0.3, "a", "b")
    X[group == "a", 0] += 1.5  # the groups differ in a feature's distribution
    return X, y, group


def _fin_model(**params):
    params = {"hidden_layer_sizes": (16,), "max_epochs": 15, "random_state": 0,
              "identity_normalization": True, **params}
    return FairLossClassifier(**params)


@pytest.fixture(scope="module")
def fitted(data):
    X, y, group = data
    return _fin_model(early_stopping=False).fit(X, y, sensitive_features=group)


def test_fit_puts_the_normalizer_before_the_output_layer(fitted, data):
    X, y, group = data
    module = fitted.net_.module_
    fin = module.identity_normalization
    assert isinstance(fin, FairIdentityNormalizer)
    assert (fin.n_groups, fin.n_features) == (2, 16) and fin.momentum == 0.3
    # its group weights are the groups' shares of the training rows (no held-out split)
    cells = np.searchsorted(["a", "b"], group)
    np.testing.assert_allclose(fin.group_weights.numpy(), np.bincount(cells) / len(cells),
                               rtol=1e-6)
    # logits = output(FIN(hidden features, group)) + the group-free linear path
    encoded = encode_features(fitted, X)
    captured = {}
    handle = module.hidden.register_forward_hook(lambda m, i, o: captured.update(h=o))
    try:
        logits = fitted.net_.predict_logits(encoded, cells=cells)
    finally:
        handle.remove()
    with torch.inference_mode():
        normalised = authors_fin(captured["h"], torch.as_tensor(cells), fin.mus, fin.sigmas,
                                 0.3)
        rows = torch.as_tensor(encoded)
        expected = module.output(normalised) + module._linear_logits(
            rows, rows[:, rows.shape[1]:].long())
    np.testing.assert_allclose(logits, expected.double().numpy(), rtol=1e-5, atol=1e-5)


def test_predict_needs_the_groups(fitted, data):
    X, y, group = data
    assert (fitted.predict(X, sensitive_features=group) == y).mean() > 0.65
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        with pytest.raises(ValueError, match="identity_normalization.*pass sensitive_features"):
            getattr(fitted, method)(X)
    # the same row scores differently in the two groups: the model is group-aware
    a = fitted.decision_function(X[:20], sensitive_features=np.full(20, "a"))
    b = fitted.decision_function(X[:20], sensitive_features=np.full(20, "b"))
    assert np.abs(a - b).max() > 1e-4


def test_unseen_group_averages_the_known_groups_with_a_warning(fitted, data):
    X, _, group = data
    shares = np.bincount(np.searchsorted(["a", "b"], group)) / len(group)
    with pytest.warns(UserWarning, match="3 row\\(s\\) of groups not seen in fit"):
        unseen = fitted.decision_function(X[:3], sensitive_features=["z"] * 3)
    logits = [fitted._logits(X[:3], np.full(3, g)) for g in ("a", "b")]
    average = shares[0] * logits[0] + shares[1] * logits[1]
    np.testing.assert_allclose(unseen, average[:, 1] - average[:, 0], rtol=1e-5, atol=1e-5)
    strict = clone(fitted).set_params(identity_normalization={"unseen_groups": "error"})
    strict.__dict__.update({k: v for k, v in vars(fitted).items()
                            if k not in fitted.get_params()})
    with pytest.raises(ValueError, match="groups not seen in fit.*unseen_groups"):
        strict.predict(X[:3], sensitive_features=["a", "z", "b"])


def test_sensitive_columns_of_a_frame_are_found_at_predict(data):
    X, y, group = data
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])]).assign(group=group)
    clf = _fin_model(sensitive_as_input=False).fit(frame, y, sensitive_features="group")
    np.testing.assert_array_equal(clf.predict(frame),
                                  clf.predict(frame.drop(columns="group"),
                                              sensitive_features=group))


def test_refusals_and_option_errors(data):
    X, y, group = data
    with pytest.raises(ValueError, match="identity_normalization.*pass sensitive_features to fit"):
        _fin_model().fit(X, y)
    with pytest.raises(ValueError, match="identity_normalization works with one MLP"):
        _fin_model(ensemble_size=2).fit(X, y, sensitive_features=group)
    with pytest.raises(ValueError, match="identity_normalization cannot be combined"):
        _fin_model(fairness="demographic_parity", fairness_bound=0.05).fit(
            X, y, sensitive_features=group)
    with pytest.raises(ValueError, match="unknown option\\(s\\) \\['mu'\\]"):
        _fin_model().set_params(identity_normalization={"mu": 0.1}).fit(
            X, y, sensitive_features=group)
    with pytest.raises(ValueError, match="identity_normalization\\['momentum'\\] must be"):
        _fin_model().set_params(identity_normalization={"momentum": 2}).fit(
            X, y, sensitive_features=group)
    with pytest.raises(ValueError, match="identity_normalization must be"):
        _fin_model().set_params(identity_normalization="yes").fit(
            X, y, sensitive_features=group)


def test_options_reach_the_module(data):
    X, y, group = data
    clf = _fin_model(max_epochs=2).set_params(
        identity_normalization={"momentum": 0.5, "mu_scale": 0.0, "sigma_scale": 0.0})
    clf.fit(X, y, sensitive_features=group)
    fin = clf.net_.module_.identity_normalization
    assert fin.momentum == 0.5


def test_without_identity_normalization_nothing_changes(data):
    X, y, group = data
    plain = FairLossClassifier(hidden_layer_sizes=(16,), max_epochs=5, random_state=0)
    off = clone(plain).set_params(identity_normalization=False)
    a = plain.fit(X, y).predict_proba(X)
    b = off.fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert plain.net_.module_.identity_normalization is None


def test_clone_get_params_and_pickle_without_training_rows(data):
    X, y, group = data
    options = {"momentum": 0.2, "unseen_groups": "error"}
    clf = _fin_model(feature_scaling="standard").set_params(identity_normalization=options)
    assert clone(clf).get_params()["identity_normalization"] == options
    sizes = []
    for n in (1200, 6000):
        Xn, yn = make_classification(n_samples=n, n_features=6, random_state=1)
        gn = np.arange(n) % 3
        model = clone(clf).set_params(max_epochs=2).fit(Xn, yn, sensitive_features=gn)
        blob = pickle.dumps(model)
        restored = pickle.loads(blob)
        np.testing.assert_array_equal(restored.predict_proba(Xn[:50], sensitive_features=gn[:50]),
                                      model.predict_proba(Xn[:50], sensitive_features=gn[:50]))
        sizes.append(len(blob))
    # 4800 more rows of 6 float32 features would add 115 kB
    assert abs(sizes[1] - sizes[0]) < 2_000, sizes


def test_partial_fit_and_cape_carry_the_groups(data):
    X, y, group = data
    clf = FairLossClassifier(hidden_layer_sizes=(16,), identity_normalization=True,
                             feature_scaling="standard", random_state=0)
    for chunk in np.array_split(np.arange(len(y)), 3):
        clf.partial_fit(X[chunk], y[chunk], classes=[0, 1], sensitive_features=group[chunk])
    assert clf.net_.module_.identity_normalization is not None
    assert clf.predict_proba(X[:5], sensitive_features=group[:5]).shape == (5, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cape = _fin_model(loss=CaPELoss(warmup_epochs=1, n_ce_epochs=1), max_epochs=4).fit(
            X, y, sensitive_features=group)
    assert cape.n_iter_ >= 1


def test_warm_start_needs_the_same_normalisation(data):
    X, y, group = data
    clf = _fin_model(max_epochs=2, warm_start=True).fit(X, y, sensitive_features=group)
    clf.fit(X, y, sensitive_features=group)  # the same network: continues
    assert clf.n_iter_ >= 1
    clf.set_params(identity_normalization=False)
    with pytest.raises(ValueError, match="identity_normalization and its groups"):
        clf.fit(X, y)


def test_several_attributes_normalise_per_intersectional_cell(data):
    X, y, group = data
    other = np.where(np.arange(len(y)) % 2 == 0, "u", "v")
    frame = pd.DataFrame({"g": group, "h": other})
    keep = ~((group == "a") & (other == "v"))  # the cell (a, v) never trains
    clf = _fin_model(max_epochs=3).fit(X[keep], y[keep], sensitive_features=frame[keep])
    fin = clf.net_.module_.identity_normalization
    assert fin.n_groups == len(clf._group_encoder.cells_) == 3
    assert clf.predict(X[keep][:5], sensitive_features=frame[keep][:5]).shape == (5,)
    with pytest.warns(UserWarning, match="groups not seen in fit"):
        clf.predict(X[~keep][:5], sensitive_features=frame[~keep][:5])
