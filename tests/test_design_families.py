"""Every family's full fit on a design equals its fit on the one-hot dense design.

The products are checked for arbitrary row weights in ``tests/test_designs.py``; here each
family's whole fit (its IRLS weights, dispersion, deviance and log-likelihood) runs through
them: one small shape (two dense columns and a five-level categorical, prior weights and
an offset), the Gram formed whole (no elimination), each family's two programs compiled
once.
"""

import functools

import numpy as np
import pandas as pd
import pytest

import jaxglm as jg

N, LEVELS = 80, 5


@functools.cache
def data():
    rng = np.random.default_rng(7)
    dense = rng.normal(scale=0.5, size=(N, 2))
    codes = rng.integers(0, LEVELS, N)
    one_hot = np.column_stack([dense, np.eye(LEVELS)[codes][:, 1:]])
    X = jg.design(dense, [jg.categorical(codes, name="c")], eliminate=None)
    offset = rng.uniform(-0.2, 0.2, N)
    eta = 0.3 * dense[:, 0] - 0.2 * dense[:, 1] + np.linspace(-0.3, 0.3, LEVELS)[codes]
    return X, one_hot, offset, eta


def response(name: str):
    """The family (with a log link for Gamma and InverseGaussian), its response and prior
    weights (trial counts for Binomial)."""
    eta = data()[3]
    rng = np.random.default_rng(len(name))
    weights = rng.uniform(0.5, 2.0, N)
    mu = np.exp(0.5 + eta)
    if name == "Gaussian":
        return jg.Gaussian(), 1.0 + eta + rng.normal(scale=0.5, size=N), weights
    if name == "Bernoulli":
        return jg.Bernoulli(), rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float), weights
    if name == "Binomial":
        trials = rng.integers(1, 8, N).astype(float)
        y = rng.binomial(trials.astype(int), 1 / (1 + np.exp(-eta))) / trials
        return jg.Binomial(), y, trials
    if name == "Gamma":
        return jg.Gamma(), rng.gamma(4.0, mu / 4.0), weights
    if name == "InverseGaussian":
        return jg.InverseGaussian(), rng.wald(mu, 8.0), weights
    if name == "NegativeBinomial":
        return jg.NegativeBinomial(alpha=0.5), rng.negative_binomial(2, 2 / (2 + mu)) * 1.0, weights
    if name == "Multinomial":
        logits = np.column_stack([np.zeros(N), eta, -eta])
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        return jg.Multinomial(3), (rng.uniform(size=(N, 1)) > probs.cumsum(1)).sum(1), weights
    y = rng.poisson(mu) * rng.gamma(2.0, 0.5, N)  # Tweedie(1.5): zeros and positives
    return jg.Tweedie(power=1.5), y, weights


def fit_kwargs(name: str):
    family, y, weights = response(name)
    kwargs = dict(family=family, weights=weights, offset=data()[2])
    if name in ("Gamma", "InverseGaussian"):
        kwargs["link"] = jg.Log()
    return y, kwargs


@functools.cache
def design_fit(name: str):
    y, kwargs = fit_kwargs(name)
    return jg.fit(data()[0], y, **kwargs)


@pytest.mark.parametrize(
    "name",
    ["Gaussian", "Bernoulli", "Binomial", "Gamma", "InverseGaussian", "NegativeBinomial",
     "Tweedie", "Multinomial"],
)  # fmt: skip
def test_family_fit_equals_one_hot(name):
    """Multinomial: its (p+1, 2) params, their bse, and its predicted probabilities (no
    scale)."""
    X, one_hot, offset = data()[:3]
    y, kwargs = fit_kwargs(name)
    got, want = design_fit(name), jg.fit(one_hot, y, **kwargs)
    assert got.converged and want.converged
    close = functools.partial(np.testing.assert_allclose, rtol=1e-10, atol=1e-12)
    keys = ("params", "bse", "deviance", "llf") + (("scale",) if name != "Multinomial" else ())
    for key in keys:
        close(getattr(got, key), getattr(want, key), err_msg=key, equal_nan=name == "Tweedie")
    assert list(got.feature_names[2:]) == ["c[1]", "c[2]", "c[3]", "c[4]"]
    if name == "Multinomial":
        close(got.predict(X, offset[:, None]), want.predict(one_hot, offset[:, None]))


def test_polars_frames_give_the_pandas_design():
    """A polars frame (an Enum column, a Categorical column) gives the design the pandas
    frame gives (codes, levels, names), and the fit of the design built from codes."""
    pl = pytest.importorskip("polars")
    X = data()[0]
    dense, labels = np.asarray(X.dense), np.asarray(X.categoricals[0].codes).astype(str)
    levels = [str(i) for i in range(LEVELS)]
    frame = pd.DataFrame({"x1": dense[:, 0], "x2": dense[:, 1],
                          "c": pd.Categorical(labels, categories=levels)})  # fmt: skip
    want = jg.design(frame, eliminate=None)
    for dtype in (pl.Enum(levels), pl.Categorical):
        got = jg.design(pl.from_pandas(frame).with_columns(pl.col("c").cast(dtype)),
                        eliminate=None)  # fmt: skip
        assert got.columns == want.columns == X.columns
        assert got.categoricals[0].levels == want.categoricals[0].levels == tuple(levels)
        np.testing.assert_array_equal(got.categoricals[0].codes, want.categoricals[0].codes)
        np.testing.assert_array_equal(got.dense, want.dense)
    reversed_enum = pl.Series("c", labels, dtype=pl.Enum(levels[::-1]))
    assert (
        jg.categorical(reversed_enum).codes.tolist()
        == (LEVELS - 1 - X.categoricals[0].codes).tolist()
    )
    y, kwargs = fit_kwargs("Gaussian")
    np.testing.assert_allclose(jg.fit(got, y, **kwargs).params, design_fit("Gaussian").params,
                               rtol=1e-12)  # fmt: skip
