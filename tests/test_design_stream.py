"""``fit_stream`` over chunks whose ``X`` is a :class:`jaxglm.Design` equals ``fit`` on the
whole design (which ``tests/test_designs.py`` and ``tests/test_design_families.py`` check
against the one-hot fit): 120 rows in chunks of 50 (the last one padded), two dense
columns and a five-level categorical, Poisson with prior weights and an offset."""

import functools

import numpy as np
import pytest

import jaxglm as jg

N, ROWS, LEVELS = 120, 50, ("a", "b", "c", "d", "e")


@functools.cache
def data():
    rng = np.random.default_rng(3)
    dense = rng.normal(scale=0.5, size=(N, 2))
    codes = rng.integers(0, len(LEVELS), N)
    weights = rng.uniform(0.5, 2.0, N)
    offset = rng.uniform(-0.2, 0.2, N)
    eta = 0.3 + dense @ [0.4, -0.3] + np.linspace(-0.3, 0.3, len(LEVELS))[codes] + offset
    return dense, codes, rng.poisson(np.exp(eta)).astype(float), weights, offset


def design(rows: slice, eliminate: str | None = None, levels=LEVELS) -> jg.Design:
    dense, codes = data()[:2]
    block = jg.categorical(np.asarray(levels)[codes[rows]], levels=levels, name="g")
    return jg.design(dense[rows], [block], dense_names=["u", "v"], eliminate=eliminate)


def chunks(eliminate: str | None = None) -> list[tuple]:
    _, _, y, w, off = data()
    cut = [slice(a, a + ROWS) for a in range(0, N, ROWS)]
    return [(design(s, eliminate), y[s], w[s], off[s]) for s in cut]


@pytest.mark.parametrize(("eliminate", "cov_type"), [(None, "nonrobust"), ("g", "HC0")])
def test_stream_of_design_chunks_equals_the_whole_design_fit(eliminate, cov_type):
    _, _, y, w, off = data()
    whole = jg.fit(design(slice(None), eliminate), y, jg.Poisson(), weights=w, offset=off,
                   cov_type=cov_type)  # fmt: skip
    res = jg.fit_stream(chunks(eliminate), jg.Poisson(), cov_type=cov_type)
    assert res.converged and int(res.nobs) == N
    assert res.feature_names == whole.feature_names == ("u", "v", "g[b]", "g[c]", "g[d]", "g[e]")
    # Poisson's start is each chunk's mean count in the stream, the data's in fit: both
    # converge, from different starts, to the stopping rule's accuracy
    for name in ("params", "bse", "deviance", "llf", "aic"):
        np.testing.assert_allclose(getattr(res, name), getattr(whole, name), rtol=1e-8, atol=1e-10)
    # the eliminated categorical's covariance stays in block form, as fit's
    assert type(res.cov) is type(whole.cov)


def test_design_chunks_must_share_blocks_and_levels():
    parts = chunks()
    _, _, y, w, off = data()
    tail = slice(2 * ROWS, N)
    other = (design(tail, levels=("a", "b", "c", "d", "e", "f")), y[tail], w[tail], off[tail])
    with pytest.raises(ValueError, match="blocks, levels and columns"):
        jg.fit_stream([*parts[:2], other], jg.Poisson())
    with pytest.raises(TypeError, match="cluster"):
        jg.fit_stream([(*c, np.zeros(len(c[1]), int)) for c in parts], jg.Poisson(),
                      cov_type="cluster")  # fmt: skip
