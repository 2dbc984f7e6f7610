"""One process of a 2-process fit (started by jaxglm.distributed.launch from
tests/test_distributed.py). Each process holds half the rows (unequal halves: 101 and
102), fits them sharded over the two processes (fit, path and fit_many), and streams
its half's chunks; each process also fits all the rows in memory and prints the
differences as one JSON line. With the
argument ``die``, process 1 kills itself (SIGKILL) in the middle of the streamed fit
(after its second pass, while process 0 waits in that pass's all-reduce).
"""

import json
import os
import signal
import sys

import jax
import numpy as np

import jaxglm as jg

jg.distributed.initialize()
jax.config.update("jax_enable_x64", True)
rank = jax.process_index()
assert jax.process_count() == 2

rng = np.random.default_rng(0)
n = 203
X = rng.normal(size=(n, 2))
y = rng.poisson(np.exp(0.3 + X @ np.array([0.4, -0.3]))).astype(float)
w = rng.uniform(0.5, 2.0, size=n)
mine = slice(0, 101) if rank == 0 else slice(101, n)


def die_mid_fit(info):
    if info.index == 2 and rank == 1:
        os.kill(os.getpid(), signal.SIGKILL)


blocks = np.array_split(np.arange(n)[mine], 3)
chunks = [(X[rows], y[rows], w[rows]) for rows in blocks]
die = len(sys.argv) > 1 and sys.argv[1] == "die"
streamed = jg.fit_stream(chunks, jg.Poisson(), tol=1e-10, progress=die_mid_fit if die else None)
sharded = jg.fit(**jg.shard_rows(X[mine], y[mine], weights=w[mine]), family=jg.Poisson())
single = jg.fit(X, y, jg.Poisson(), weights=w, tol=1e-10)
# The sweeps on rows spread over the processes: a path and a batch.
spread = jg.shard_rows(X[mine], y[mine], weights=w[mine])
Y = np.stack([y, y[::-1]])
path = jg.path(**spread, family=jg.Poisson(), n_alphas=5)
many = jg.fit_many(
    spread["X"],
    jax.numpy.stack([spread["y"], jg.shard_rows(X[mine], Y[1, mine])["y"]]),
    jg.Poisson(),
    weights=spread["weights"],
)


def rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-8 * np.abs(b).max())))


print(json.dumps(dict(
    rank=rank,
    sharded=max(rel(sharded.params, single.params), rel(sharded.bse, single.bse)),
    streamed=max(rel(streamed.params, single.params), rel(streamed.bse, single.bse)),
    path=rel(path.coef, jg.path(X, y, jg.Poisson(), weights=w, n_alphas=5).coef),
    fit_many=rel(many.params, jg.fit_many(X, Y, jg.Poisson(), weights=w).params),
    status=[int(sharded.status), int(streamed.status)],
)), flush=True)  # fmt: skip
