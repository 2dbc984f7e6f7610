"""Every bad input at the boundary raises a ValueError naming the argument and the index."""

import numpy as np
import pytest

import jaxglm as jg

X = np.random.default_rng(0).normal(size=(12, 2))
Y = np.arange(12.0) % 3


def with_value(arr, index, value):
    out = np.array(arr, dtype=float)
    out[index] = value
    return out


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(X=X[:, 0]), r"X must be 2-D"),
        (dict(X=X[None]), r"X must be 2-D"),
        (dict(X=X[:0], y=Y[:0]), r"no rows"),
        (dict(X=with_value(X, (4, 1), np.nan)), r"X has a non-finite value at row 4, column 1"),
        (dict(X=np.array([["a", "b"]] * 12)), r"X must be numeric"),
        (dict(y=Y[:11]), r"y must have shape \(12,\)"),
        (dict(y=Y[:, None]), r"y must be 1-D"),
        (dict(y=with_value(Y, 3, np.inf)), r"y has a non-finite value at index 3"),
        (dict(y=with_value(Y, 5, -1.0)), r"y\[5\] = -1 is outside the support of Poisson"),
        (dict(weights=np.ones(11)), r"weights must have shape \(12,\)"),
        (
            dict(weights=with_value(np.ones(12), 2, -1.0)),
            r"weights has a negative value at index 2",
        ),
        (
            dict(weights=with_value(np.ones(12), 7, np.nan)),
            r"weights has a non-finite value at index 7",
        ),
        (dict(weights=np.zeros(12)), r"all weights are zero"),
        (dict(freq_weights=with_value(np.ones(12), 1, -2.0)), r"freq_weights has a negative"),
        (
            dict(offset=with_value(np.zeros(12), 0, np.nan)),
            r"offset has a non-finite value at index 0",
        ),
        (
            dict(exposure=with_value(np.ones(12), 9, 0.0)),
            r"exposure must be > 0; bad value at index 9",
        ),
        (dict(alpha=-1.0), r"alpha must be a finite scalar >= 0"),
        (dict(penalty_factor=np.ones(3)), r"penalty_factor must be \(2,\)"),
        (dict(start_params=np.zeros(2)), r"start_params must be \(3,\)"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_input_raises_value_error(kwargs, message):
    args = dict(X=X, y=Y, family=jg.Poisson()) | kwargs
    with pytest.raises(ValueError, match=message):
        jg.fit(args.pop("X"), args.pop("y"), **args)


@pytest.mark.parametrize(
    ("family", "y", "message"),
    [
        (
            jg.Bernoulli(),
            with_value(Y > 0, 2, 0.5),
            r"y\[2\] = 0.5 is outside the support of Bernoulli",
        ),
        (jg.Binomial(), with_value(Y / 2, 4, 1.5), r"y\[4\] = 1.5 .* Binomial"),
        (jg.Gamma(), with_value(Y + 1, 6, 0.0), r"y\[6\] = 0 .* Gamma"),
        (jg.InverseGaussian(), with_value(Y + 1, 1, -2.0), r"y\[1\] = -2 .* InverseGaussian"),
        (
            jg.NegativeBinomial(alpha=1.0),
            with_value(Y, 8, -3.0),
            r"y\[8\] = -3 .* NegativeBinomial",
        ),
        (jg.Tweedie(power=1.5), with_value(Y, 0, -0.1), r"y\[0\] = -0.1 .* Tweedie"),
        (jg.Tweedie(power=2.5), Y, r"y\[0\] = 0 .* Tweedie"),
    ],
    ids=lambda v: getattr(v, "name", None),
)
def test_response_outside_the_support(family, y, message):
    with pytest.raises(ValueError, match=message):
        jg.fit(X, y, family=family)


@pytest.mark.parametrize(
    ("family", "link", "message"),
    [
        (jg.NegativeBinomial(alpha=0.0), None, r"alpha must be > 0"),
        (jg.Tweedie(power=0.5), None, r"power must be 0 or >= 1"),
        (jg.Poisson(), jg.Power(power=0.0), r"Power\(0\) is not a link"),
    ],
)
def test_bad_family_parameters(family, link, message):
    with pytest.raises(ValueError, match=message):
        jg.fit(X, Y + 1, family=family, link=link)


def test_wrong_types_and_unsupported_options():
    with pytest.raises(TypeError, match="family must be a jaxglm Family"):
        jg.fit(X, Y, family="poisson")
    with pytest.raises(TypeError, match="link must be a jaxglm Link"):
        jg.fit(X, Y, family=jg.Poisson(), link="log")
    with pytest.raises(ValueError, match="l1_ratio"):
        jg.fit(X, Y, family=jg.Poisson(), l1_ratio=0.5, solver=jg.Newton())
    with pytest.raises(ValueError, match="cov_type must be one of"):
        jg.fit(X, Y, family=jg.Poisson(), cov_type="HC4")


def test_integer_and_bool_inputs_are_converted():
    res = jg.fit(X.round().astype(int), (Y > 0), family=jg.Bernoulli())
    ref = jg.fit(X.round(), (Y > 0).astype(float), family=jg.Bernoulli())
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-12)
    assert res.params.dtype == np.float64
