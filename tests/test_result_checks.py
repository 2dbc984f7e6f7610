"""Checks on the inputs of predictions (columns, feature names) and of multinomial labels."""

import jax
import numpy as np
import pandas as pd
import pytest

import jaxglm as jg


def data(n=60, p=3, k=3):
    """A design, Poisson counts and class labels 0..k-1 (every class present)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, p))
    counts = rng.poisson(np.exp(0.2 + X @ np.array([0.3, -0.2, 0.1])[:p]))
    logits = np.concatenate([np.zeros((n, 1)), X @ rng.normal(size=(p, k - 1))], axis=1)
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(k, p=row) for row in prob])
    labels[:k] = np.arange(k)
    return X, counts.astype(float), labels


@pytest.fixture(scope="module")
def fits():
    X, counts, labels = data()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    return {
        "X": X,
        "frame": frame,
        "glm": jg.fit(frame, counts, family=jg.Poisson()),
        "multi": jg.fit(frame, labels, family=jg.Multinomial(3)),
    }


def test_wrong_column_count_names_both_counts(fits):
    X = fits["X"]
    for predict in (fits["glm"].predict, fits["glm"].get_prediction, fits["multi"].predict):
        with pytest.raises(ValueError, match="X has 2 columns; the fit has 3"):
            predict(X[:, :2])
        with pytest.raises(ValueError, match="X has 4 columns; the fit has 3"):
            predict(np.column_stack([np.ones(len(X)), X]))


def test_feature_names_must_match_in_order(fits):
    frame = fits["frame"]
    for predict in (fits["glm"].predict, fits["glm"].get_prediction, fits["multi"].predict):
        with pytest.raises(ValueError, match="same order: column 0 is 'b', the fit's is 'a'"):
            predict(frame[["b", "a", "c"]])
        match = r"column 2 is 'd', the fit's is 'c'; missing: \['c'\]"
        with pytest.raises(ValueError, match=match):
            predict(frame.rename(columns={"c": "d"}))
        with pytest.raises(ValueError, match=r"column 2 is '\(none\)'.*missing: \['c'\]"):
            predict(frame[["a", "b"]])
    for name in ("glm", "multi"):
        res = fits[name]
        np.testing.assert_array_equal(res.predict(frame), res.predict(fits["X"]))
    pred = fits["glm"].get_prediction(frame)
    np.testing.assert_array_equal(pred.mean, fits["glm"].get_prediction(fits["X"]).mean)


def test_checks_are_traceable(fits):
    X = fits["X"]
    for res in (fits["glm"], fits["multi"]):
        np.testing.assert_allclose(jax.jit(res.predict)(X), res.predict(X), rtol=1e-14)
        with pytest.raises(ValueError, match="X has 2 columns; the fit has 3"):
            jax.jit(res.predict)(X[:, :2])


def test_n_classes_inferred_from_labels(fits):
    X, _, labels = data()
    res = jg.fit(X, labels, family=jg.Multinomial())
    assert res.family.n_classes == 3 and res.family.n_natural == 2
    assert res.params.shape == (4, 2)
    np.testing.assert_allclose(res.params, fits["multi"].params, rtol=1e-12)
    assert "Classes: 3" in res.summary()
    rows = jg.fit(X, np.eye(3)[labels], family=jg.Multinomial())
    assert rows.family.n_classes == 3
    np.testing.assert_allclose(rows.params, res.params, rtol=1e-12)
    with pytest.raises(ValueError, match="set by the fit"):
        _ = jg.Multinomial().n_natural


def test_traced_labels_need_n_classes():
    X, _, labels = data()
    with pytest.raises(ValueError, match=r"y is traced.*pass n_classes"):
        jax.vmap(lambda y: jg.fit(X, y, family=jg.Multinomial()))(np.stack([labels, labels]))


def test_labels_must_be_integers():
    X, _, labels = data()
    with pytest.raises(ValueError, match=r"integer class labels 0\.\.k-1, got dtype <U1"):
        jg.fit(X, np.array(list("abc"))[labels], family=jg.Multinomial(3))
    fractional = labels.astype(float)
    fractional[4] = 0.5
    for family in (jg.Multinomial(3), jg.Multinomial()):
        with pytest.raises(ValueError, match=r"integer class labels 0\.\.k-1: y\[4\] = 0.5"):
            jg.fit(X, fractional, family=family)
    with pytest.raises(ValueError, match=r"max\(y\) \+ 1 = 1 classes"):
        jg.fit(X, np.zeros(len(X), int), family=jg.Multinomial())


def test_labels_out_of_range_and_empty_classes():
    X, _, labels = data()
    for bad, family in ((3, jg.Multinomial(3)), (-1, jg.Multinomial(3)), (-1, jg.Multinomial())):
        y = labels.copy()
        y[7] = bad
        with pytest.raises(ValueError, match=rf"y\[7\] = {bad} is not a class label in 0..2"):
            jg.fit(X, y, family=family)
    gap = np.where(labels == 1, 2, labels)
    for family in (jg.Multinomial(3), jg.Multinomial()):
        with pytest.raises(ValueError, match=r"class 1 has no rows \(with positive weight\)"):
            jg.fit(X, gap, family=family)
    with pytest.raises(ValueError, match="class 2 has no rows"):
        jg.fit(X, np.eye(3)[gap][:, [0, 2, 1]], family=jg.Multinomial(3))
    typo = labels.copy()
    typo[5] = 10**9
    with pytest.raises(ValueError, match=r"class 3 has no rows: .* = 1000000001 classes"):
        jg.fit(X, typo, family=jg.Multinomial())
    with pytest.raises(ValueError, match="class 0 has no rows"):
        jg.fit(X, labels, family=jg.Multinomial(3), weights=(labels != 0).astype(float))
