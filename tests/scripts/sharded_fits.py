"""Sharded fits on 4 host devices against one-device fits (run by tests/test_sharding.py).

Run in its own process with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``; prints
one JSON line: the largest relative difference of each check, and the collectives in the
compiled HLO of two sharded fits. Compiles dominate (each check is two programs, sharded
and not), so each family's check carries one more feature of the issue: Poisson the
cluster covariance, Gaussian HC0, Bernoulli the elastic net (ProxNewton), InverseGaussian
a ridge, Binomial SubsampledNewton, NegativeBinomial full-batch Optax, Gamma ``fit_many``
(a ridge in one member), Tweedie a categorical design (``jg.design``: its dense block and
codes sharded by rows); every one with weights and an offset. Mini-batch Optax must refuse
sharded rows. ``path``, ``cv`` and ``bootstrap`` on sharded rows are checked across two
processes (tests/scripts/two_processes.py).
"""

import functools
import inspect
import json
import re

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import jaxglm as jg  # noqa: E402
from jaxglm import _fit  # noqa: E402

assert jax.device_count() == 4, jax.devices()
rng = np.random.default_rng(0)
n, p = 203, 2  # 203 rows: one row of padding to 4 equal shards
X = rng.normal(size=(n, p))
eta = 0.3 + X @ np.array([0.4, -0.3])
offset = 0.1 * rng.normal(size=n)
weights = rng.uniform(0.5, 2.0, size=n)
groups = rng.integers(0, 9, size=n) * 5  # any labels: shard_rows codes them 0..8
mu = np.exp(eta)
y = rng.poisson(mu).astype(float)
KW = dict(weights=weights, offset=offset)
FIELDS = ("params", "bse", "deviance", "null_deviance", "llf", "scale")
# The compiled fit's static arguments: its keyword-only ones but the model's pytrees.
STATIC = {
    name for name, arg in inspect.signature(_fit._fit_jit).parameters.items()
    if arg.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("family", "link", "solver")
}  # fmt: skip
out = {}


def rel(a, b):
    """The largest elementwise relative difference (|b| floored at 1e-8 of its largest)."""
    a, b = np.atleast_1d(np.asarray(a, float)), np.atleast_1d(np.asarray(b, float))
    both_nan = np.isnan(a) & np.isnan(b)
    floor = 1e-8 * max(np.max(np.abs(np.where(np.isnan(b), 0.0, b))), 1.0)
    diff = np.abs(a - b) / np.maximum(np.abs(b), floor)
    return float(np.max(np.where(both_nan, 0.0, diff)))


def compare(sharded, single, fields=FIELDS):
    assert np.all(np.asarray(sharded.status) == 0), sharded.status
    return max(rel(getattr(sharded, f), getattr(single, f)) for f in fields)


def fit_with_hlo(name, **kw):
    """``jg.fit(**kw)``, keeping the optimized HLO of the compiled fit it runs (with XLA's
    default options or the quick ones of small CPU fits): the kinds of collectives in it
    and the size of its largest all-reduce."""
    programs = {attr: getattr(_fit, attr) for attr in ("_fit_jit", "_fit_jit_quick")}

    def capture(compiled, *args, **kwargs):
        executable = compiled.lower(*args, **kwargs).compile()
        text = executable.as_text()
        shapes = re.findall(r"= (\(.*?\)|\S+) all-reduce(?:-start)?\(", text)
        sizes = [
            int(np.prod([int(d) for d in dims.split(",") if d] or [1]))
            for shape in shapes
            for dims in re.findall(r"\[([0-9,]*)\]", shape)
        ]
        others = ("all-gather", "all-to-all", "collective-permute", "reduce-scatter")
        out["hlo_" + name] = dict(
            all_reduce=len(shapes), largest_all_reduce=max(sizes),
            others=[op for op in others if op in text],
        )  # fmt: skip
        return executable(*args, **{k: v for k, v in kwargs.items() if k not in STATIC})

    for attr, compiled in programs.items():
        setattr(_fit, attr, functools.partial(capture, compiled))
    try:
        return jg.fit(**kw)
    finally:
        for attr, compiled in programs.items():
            setattr(_fit, attr, compiled)


def check_fit(name, family, response, hlo=None, groups=None, design=X, **options):
    """The fit of ``response`` with weights and offset, sharded and not."""
    data = jg.shard_rows(design, response, **KW, groups=groups)
    if hlo is None:
        sharded = jg.fit(**data, family=family, **options)
    else:
        sharded = fit_with_hlo(hlo, **data, family=family, **options)
    single = jg.fit(design, response, family, **KW, groups=groups, **options)
    out[name] = compare(sharded, single)
    return sharded


sharded = check_fit("Poisson", jg.Poisson(), y, "cluster", cov_type="cluster", groups=groups)
out["replicated"] = bool(sharded.params.sharding.is_fully_replicated)
out["cluster_groups"] = float(sharded.n_groups)
check_fit("Gaussian", jg.Gaussian(), eta + rng.normal(size=n), "HC0", cov_type="HC0")
bernoulli = rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float)
check_fit("Bernoulli", jg.Bernoulli(), bernoulli, alpha=0.02, l1_ratio=0.5)
check_fit("InverseGaussian", jg.InverseGaussian(), rng.wald(mu, 4.0), alpha=0.05)

# The subsampling and Optax solvers against the same padded rows on one device.
for name, family, response, solver in (
    ("Binomial", jg.Binomial(), rng.binomial(5, 1 / (1 + np.exp(-eta))) / 5.0,
     jg.SubsampledNewton()),
    ("NegativeBinomial", jg.NegativeBinomial(0.5), rng.poisson(mu * rng.gamma(2, 0.5, n)),
     jg.Optax()),
):  # fmt: skip
    data = jg.shard_rows(X, response, **KW)
    host = {k: np.asarray(v) for k, v in data.items()}
    out[name] = compare(
        jg.fit(**data, family=family, solver=solver), jg.fit(**host, family=family, solver=solver)
    )
try:
    jg.fit(**jg.shard_rows(X, y), family=jg.Poisson(), solver=jg.Optax(batch_size=32))
    out["minibatch_refused"] = ""
except ValueError as e:
    out["minibatch_refused"] = str(e)

gamma = np.stack([rng.gamma(2.0, mu / 2.0), rng.gamma(2.0, mu / 2.0)])
batch = jg.shard_rows(X, gamma, **KW)
ridge = dict(family=jg.Gamma(), link=jg.Log(), alpha=np.array([0.0, 0.05]))
many = jg.fit_many(batch.pop("X"), batch.pop("y"), **batch, **ridge)
out["Gamma_fit_many"] = compare(many, jg.fit_many(X, gamma, **KW, **ridge))

# 5 levels, the reference dropped: p = 2 + 4 columns.
categorical = jg.design(X, [jg.categorical(rng.integers(0, 5, size=n), name="g")])
tweedie = rng.poisson(mu) * rng.gamma(2.0, 0.5, n)
check_fit("Tweedie_design", jg.Tweedie(power=1.5), tweedie, "design", design=categorical)
print(json.dumps(out))
