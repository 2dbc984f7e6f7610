"""One process of a 2-process fit (started by jaxglm.distributed.launch from
tests/test_distributed.py). Each process holds half the rows (unequal halves: 101 and
102, so that process 0's block carries a padding row in the middle of the global rows),
fits them sharded over the two processes (``fit``, ``cv`` with its default folds and
``bootstrap``: folds and replicates drawn over the rows in global order; ``path`` is
checked as ``cv``'s path of all the rows, the same path program inside ``cv``'s, which
spares two compiles per process; ``fit_many`` of sharded rows is checked on 4 devices,
tests/scripts/sharded_fits.py) and streams its half's chunks. It prints one JSON line:
what every process got (to compare across processes), and the largest relative
difference to the one-process fits of all the rows; the processes share those reference
fits (process 0 fits ``fit`` and ``bootstrap``, whose fit of all the rows is the same
program, process 1 ``cv``: compiles dominate). With the
argument ``die``, the processes then stream again and process 1 kills itself (SIGKILL)
after the second pass, while process 0 waits in that pass's all-reduce.
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
blocks = np.array_split(np.arange(n)[mine], 3)
chunks = [(X[rows], y[rows], w[rows]) for rows in blocks]
streamed = jg.fit_stream(chunks, jg.Poisson(), tol=1e-10)
spread = jg.shard_rows(X[mine], y[mine], weights=w[mine])
sharded = jg.fit(**spread, family=jg.Poisson())
folds = dict(family=jg.Poisson(), n_alphas=4, n_folds=3)
cv = jg.cv(**spread, **folds)
resample = dict(family=jg.Poisson(), n_boot=4, key=7, tol=1e-10)
boot = jg.bootstrap(**spread, **resample)


def rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-8 * np.abs(b).max())))


got = dict(
    sharded=np.r_[sharded.params, sharded.bse], streamed=np.r_[streamed.params, streamed.bse],
    path=cv.path.coef, cv=np.r_[cv.mean, cv.refit.params],
    bootstrap=np.r_[boot.params.ravel(), boot.bse],
)  # fmt: skip
if rank == 0:
    single = jg.fit(X, y, jg.Poisson(), weights=w, tol=1e-10)
    single_boot = jg.bootstrap(X, y, weights=w, **resample)
    expected = dict(
        sharded=np.r_[single.params, single.bse], streamed=np.r_[single.params, single.bse],
        bootstrap=np.r_[single_boot.params.ravel(), single_boot.bse],
    )  # fmt: skip
else:
    single_cv = jg.cv(X, y, weights=w, **folds)
    expected = dict(path=single_cv.path.coef, cv=np.r_[single_cv.mean, single_cv.refit.params])
print(json.dumps(dict(
    rank=rank,
    got={k: np.asarray(v).ravel().tolist() for k, v in got.items()},
    diff={k: rel(got[k], v) for k, v in expected.items()},
    status=[int(sharded.status), int(streamed.status), int(cv.refit.status)],
)), flush=True)  # fmt: skip


def die_mid_fit(info):
    if info.index == 2 and rank == 1:
        os.kill(os.getpid(), signal.SIGKILL)


if len(sys.argv) > 1 and sys.argv[1] == "die":
    jg.fit_stream(chunks, jg.Poisson(), tol=1e-10, progress=die_mid_fit)
