"""GroupEncoder: the one factorisation of sensitive features (codes, values, cells)."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from sklearn_fairloss._groups import GroupCodes, GroupEncoder


@pytest.mark.parametrize("labels", [
    ["m", "f", "x", "f", "m"],
    [3, 1, 2, 1, 3, 3],
    [0.5, -1.0, 0.5, 2.0],
    [True, False, True],
])
def test_one_attribute_codes_are_numpy_unique(labels):
    groups = GroupEncoder().fit_transform(labels)
    categories, inverse = np.unique(np.asarray(labels), return_inverse=True)
    assert groups.codes.shape == (len(labels), 1)
    assert groups.codes.dtype == np.int64 and groups.cells.dtype == np.int64
    np.testing.assert_array_equal(groups.codes[:, 0], inverse.ravel())
    np.testing.assert_array_equal(groups.cells, inverse.ravel())


def test_hand_written_codes_and_attributes():
    sf = pd.DataFrame({"sex": ["M", "F", "M", "F", "M"], "age": [40, 20, 20, 40, 40]})
    encoder = GroupEncoder().fit(sf)
    assert encoder.names_ == ["sex", "age"]
    assert [c.tolist() for c in encoder.categories_] == [["F", "M"], [20, 40]]
    assert encoder.numeric_ == [False, True]
    assert encoder.n_groups_ == [2, 2]
    assert encoder.cells_ == [("F", 20), ("F", 40), ("M", 20), ("M", 40)]
    np.testing.assert_array_equal(encoder.cell_codes_, [[0, 0], [0, 1], [1, 0], [1, 1]])
    groups = encoder.transform(sf)
    assert isinstance(groups, GroupCodes)
    np.testing.assert_array_equal(groups.codes, [[1, 1], [0, 0], [1, 0], [0, 1], [1, 1]])
    assert groups.values.dtype == np.float32
    np.testing.assert_array_equal(groups.values,
                                  [[1, 40], [0, 20], [1, 20], [0, 40], [1, 40]])
    np.testing.assert_array_equal(groups.cells, [3, 0, 2, 1, 3])


def test_cells_are_only_the_present_combinations_in_lexicographic_order():
    sf = np.array([["b", "y"], ["a", "y"], ["b", "x"], ["a", "y"]])
    encoder = GroupEncoder().fit(sf)
    assert encoder.cells_ == [("a", "y"), ("b", "x"), ("b", "y")]
    np.testing.assert_array_equal(encoder.transform(sf).cells, [2, 0, 1, 0])


def test_cells_match_pandas_groupby_on_random_data():
    rng = np.random.default_rng(0)
    sf = pd.DataFrame({"a": rng.choice(["u", "v", "w"], 500), "b": rng.integers(0, 4, 500),
                       "c": rng.choice([True, False], 500)})
    groups = GroupEncoder().fit_transform(sf)
    expected = sf.groupby(["a", "b", "c"], sort=True).ngroup().to_numpy()
    np.testing.assert_array_equal(groups.cells, expected)
    for j, column in enumerate(sf.columns):
        codes, _ = pd.factorize(sf[column], sort=True)
        np.testing.assert_array_equal(groups.codes[:, j], codes)


def test_mixed_type_labels_are_ordered_by_kind_then_value():
    for labels in (pd.Series(["a", 1, "a", 1]), np.array(["a", 1, "a", 1], dtype=object)):
        encoder = GroupEncoder()
        groups = encoder.fit_transform(labels)
        assert encoder.categories_[0].tolist() == [1, "a"]
        assert encoder.cells_ == [1, "a"]
        np.testing.assert_array_equal(groups.codes[:, 0], [1, 0, 1, 0])
    encoder = GroupEncoder().fit(pd.Series(["b", 2.5, 1, "a", (1, 2)]))
    assert encoder.categories_[0].tolist() == [1, 2.5, "a", "b", (1, 2)]
    np.testing.assert_array_equal(
        encoder.transform(pd.Series(["a", 1, (1, 2)])).codes[:, 0], [2, 0, 4])


def test_names_of_unnamed_and_named_inputs():
    assert GroupEncoder().fit(["a", "b"]).names_ == ["sensitive_feature_0"]
    assert GroupEncoder().fit(np.zeros((2, 2))).names_ == ["sensitive_feature_0",
                                                          "sensitive_feature_1"]
    assert GroupEncoder().fit(pd.Series(["a", "b"], name="race")).names_ == ["race"]
    assert GroupEncoder().fit({"x": [1, 2], "y": [3, 4]}).names_ == ["x", "y"]


def test_values_are_numbers_for_numeric_attributes_only():
    sf = pd.DataFrame({"age": [33.5, 18.0], "flag": [True, False], "grp": ["b", "a"]})
    encoder = GroupEncoder().fit(sf)
    assert encoder.numeric_ == [True, False, False]
    np.testing.assert_array_equal(encoder.transform(sf).values,
                                  np.array([[33.5, 1, 1], [18.0, 0, 0]], dtype=np.float32))


def test_transform_other_rows_and_fit_transform_agree():
    train = pd.DataFrame({"s": ["a", "b", "c", "a"], "t": [1, 1, 2, 2]})
    encoder = GroupEncoder()
    fitted = encoder.fit_transform(train)
    again = encoder.transform(train)
    for name in ("codes", "values", "cells"):
        np.testing.assert_array_equal(getattr(fitted, name), getattr(again, name))
    other = encoder.transform(pd.DataFrame({"s": ["c", "a"], "t": [2, 1]}))
    np.testing.assert_array_equal(other.codes, [[2, 1], [0, 0]])
    np.testing.assert_array_equal(other.cells, [encoder.cells_.index(("c", 2)),
                                                encoder.cells_.index(("a", 1))])


def test_unseen_groups_are_an_error_naming_the_column():
    encoder = GroupEncoder().fit(pd.DataFrame({"sex": ["F", "M"], "race": ["a", "b"]}))
    with pytest.raises(ValueError, match=r"column 'sex' holds group\(s\) \['X'\] not seen "
                                         r"during fit"):
        encoder.transform(pd.DataFrame({"sex": ["X", "F"], "race": ["a", "a"]}))
    with pytest.raises(ValueError, match=r"group\(s\) \[\('F', 'b'\)\] not seen during fit"):
        encoder.transform(pd.DataFrame({"sex": ["F"], "race": ["b"]}))


def test_unseen_ignore_gives_minus_one():
    encoder = GroupEncoder().fit(pd.DataFrame({"sex": ["F", "M"], "race": ["a", "b"]}))
    groups = encoder.transform(pd.DataFrame({"sex": ["X", "F", "M"], "race": ["a", "b", "b"]}),
                               unseen="ignore")
    np.testing.assert_array_equal(groups.codes, [[-1, 0], [0, 1], [1, 1]])
    np.testing.assert_array_equal(groups.cells, [-1, -1, 1])
    one = GroupEncoder().fit([1, 2]).transform([2, 5], unseen="ignore")
    np.testing.assert_array_equal(one.cells, [1, -1])
    np.testing.assert_array_equal(one.values[:, 0], [2.0, 5.0])


def test_input_errors():
    encoder = GroupEncoder()
    with pytest.raises(ValueError, match="sensitive_features has 3 rows but X has 4 rows"):
        encoder.fit(["a", "b", "a"], n_samples=4)
    with pytest.raises(ValueError, match="sensitive_features has 2 rows but y has 3 rows"):
        encoder.fit(["a", "b"], n_samples=3, reference="y")
    with pytest.raises(ValueError, match="missing values"):
        encoder.fit(pd.Series(["a", None]))
    with pytest.raises(NotFittedError):
        GroupEncoder().transform(["a"])
    encoder.fit(["a", "b"])
    with pytest.raises(ValueError, match=r"has 2 column\(s\) but had 1 during fit"):
        encoder.transform(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="unseen must be one of"):
        encoder.transform(["a"], unseen="drop")
    with pytest.raises(ValueError, match="sensitive_features has 1 rows but X has 2 rows"):
        encoder.transform(["a"], n_samples=2)


def test_pickle_round_trip():
    encoder = GroupEncoder().fit(pd.DataFrame({"s": ["a", "b"], "t": [1, 2]}))
    clone = pickle.loads(pickle.dumps(encoder))
    assert clone.cells_ == encoder.cells_
    np.testing.assert_array_equal(clone.transform({"s": ["b"], "t": [2]}).cells, [1])
    codes = pickle.loads(pickle.dumps(clone.transform({"s": ["a"], "t": [1]})))
    np.testing.assert_array_equal(codes.codes, [[0, 0]])


def test_many_attributes_with_many_groups():
    # 8 attributes of up to 1000 groups: more combinations than an int64 key can number.
    rng = np.random.default_rng(1)
    sf = pd.DataFrame({f"c{j}": rng.integers(0, 1000, 300) for j in range(8)})
    encoder = GroupEncoder()
    groups = encoder.fit_transform(sf)
    np.testing.assert_array_equal(groups.cells, sf.groupby(list(sf.columns)).ngroup())
    np.testing.assert_array_equal(encoder.transform(sf.iloc[::-1]).cells, groups.cells[::-1])
    other = sf.iloc[:2].copy()
    other.iloc[0, 0], other.iloc[0, 1] = sf.iloc[1, 0], sf.iloc[2, 1]  # seen values, new cell
    with pytest.raises(ValueError, match="not seen during fit"):
        encoder.transform(other)
    np.testing.assert_array_equal(encoder.transform(other, unseen="ignore").cells,
                                  [-1, groups.cells[1]])
