"""Sharded fits on 4 host devices against one-device fits (run by tests/test_sharding.py).

Run in its own process with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``; prints
one JSON line: the largest relative difference of each check, and the collectives in the
compiled HLO of the sharded fits. ``core`` (argument 1) runs the checks of the pipeline's
entry points (Poisson with weights, offset and cluster, HC0, elastic net, ridge in
``fit_many``, ``path``, ``cv``, ``bootstrap``, the mini-batch refusal, the HLO); ``more``
every other family and the SubsampledNewton and Optax solvers (compile-heavy: one program
per family, sharded and not).
"""

import inspect
import json
import re
import sys

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
    """``jg.fit(**kw)``, keeping the optimized HLO of the compiled fit it runs: the kinds
    of collectives in it and the size of its largest all-reduce."""
    compiled = _fit._fit_jit

    def capture(*args, **kwargs):
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

    _fit._fit_jit = capture
    try:
        return jg.fit(**kw)
    finally:
        _fit._fit_jit = compiled


def core():
    data = jg.shard_rows(X, y, weights=weights, offset=offset, groups=groups)
    sharded = fit_with_hlo("cluster", **data, family=jg.Poisson(), cov_type="cluster")
    kw = dict(weights=weights, offset=offset, cov_type="cluster", groups=groups)
    out["Poisson"] = compare(sharded, jg.fit(X, y, jg.Poisson(), **kw))
    out["replicated"] = bool(sharded.params.sharding.is_fully_replicated)
    out["cluster_groups"] = float(sharded.n_groups)
    plain = {k: v for k, v in data.items() if k not in ("groups", "offset")}
    sharded = fit_with_hlo("HC0", **plain, family=jg.Poisson(), cov_type="HC0")
    single = jg.fit(X, y, jg.Poisson(), weights=weights, cov_type="HC0")
    out["HC0"] = compare(sharded, single, ("params", "bse"))
    yb = rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float)
    enet = dict(family=jg.Bernoulli(), alpha=0.02, l1_ratio=0.5)
    out["ProxNewton"] = compare(
        jg.fit(**jg.shard_rows(X, yb), **enet), jg.fit(X, yb, **enet), ("params", "deviance")
    )
    try:
        jg.fit(**plain, family=jg.Poisson(), solver=jg.Optax(batch_size=32))
        out["minibatch_refused"] = ""
    except ValueError as e:
        out["minibatch_refused"] = str(e)

    Y = np.stack([y, rng.poisson(mu).astype(float)])
    batch = jg.shard_rows(X, Y, weights=weights)
    ridge = dict(family=jg.Poisson(), alpha=np.array([0.0, 0.05]))
    many = jg.fit_many(batch.pop("X"), batch.pop("y"), **batch, **ridge)
    out["fit_many"] = compare(many, jg.fit_many(X, Y, weights=weights, **ridge), ("params",))

    host = {k: np.asarray(v) for k, v in plain.items()}  # the same padded rows, one device
    path = dict(family=jg.Poisson(), l1_ratio=0.5, n_alphas=4)
    out["path"] = rel(jg.path(**plain, **path).coef, jg.path(**host, **path).coef)
    out["cv"] = rel(jg.cv(**plain, **path, n_folds=3).mean, jg.cv(**host, **path, n_folds=3).mean)
    boot = dict(n_boot=4, key=3, cov_type="none")
    boot_s = jg.bootstrap(**plain, family=jg.Poisson(), **boot)
    boot_h = jg.bootstrap(X, y, jg.Poisson(), weights=weights, **boot)
    out["bootstrap"] = rel(boot_s.params, boot_h.params)


def more():
    responses = {
        "Gaussian": (jg.Gaussian(), eta + rng.normal(size=n)),
        "Bernoulli": (jg.Bernoulli(), rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float)),
        "Binomial": (jg.Binomial(), rng.binomial(5, 1 / (1 + np.exp(-eta))) / 5.0),
        "Gamma": (jg.Gamma(), rng.gamma(2.0, mu / 2.0)),
        "InverseGaussian": (jg.InverseGaussian(), rng.wald(mu, 4.0)),
        "NegativeBinomial": (jg.NegativeBinomial(0.5), rng.poisson(mu * rng.gamma(2, 0.5, n))),
        "Tweedie": (jg.Tweedie(power=1.5), rng.poisson(mu) * rng.gamma(2.0, 0.5, n)),
    }
    for name, (family, response) in responses.items():
        kw = dict(weights=weights, offset=offset)
        sharded = jg.fit(**jg.shard_rows(X, response, **kw), family=family)
        out[name] = compare(sharded, jg.fit(X, response, family, **kw))
    data = jg.shard_rows(X, y, weights=weights)
    host = {k: np.asarray(v) for k, v in data.items()}  # the same padded rows, one device
    for solver in (jg.SubsampledNewton(), jg.Optax()):
        sharded = jg.fit(**data, family=jg.Poisson(), solver=solver)
        out[solver.name] = compare(sharded, jg.fit(**host, family=jg.Poisson(), solver=solver))


{"core": core, "more": more}[sys.argv[1]]()
print(json.dumps(out))
