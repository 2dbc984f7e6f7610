"""jaxglm: generalized linear models in JAX.

Fit GLMs by maximum likelihood with an exact, jit-compiled Newton (IRLS) solver that runs
the same on CPU, GPU and TPU, batches with ``jax.vmap`` and reports R-grade statistics.

Example:
    >>> import numpy as np, jaxglm as jg
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = rng.binomial(1, 1 / (1 + np.exp(-X @ np.array([1.0, -1.0]))))
    >>> res = jg.fit(X, y, family=jg.Bernoulli())
    >>> res.params.shape
    (3,)
"""

from jaxglm import distributed
from jaxglm._fit import fit
from jaxglm._status import ConvergenceWarning, PerfectSeparationWarning, Status
from jaxglm.compilation import enable_compilation_cache
from jaxglm.designs import Categorical, Design, categorical, design
from jaxglm.distributed import shard_rows
from jaxglm.families import (
    Bernoulli,
    Binomial,
    Family,
    Gamma,
    Gaussian,
    InverseGaussian,
    NegativeBinomial,
    Poisson,
    Tweedie,
)
from jaxglm.formula import FormulaResult, glm
from jaxglm.inference import ContrastResult, HypothesisTest, Influence, Prediction
from jaxglm.links import (
    Canonical,
    Cauchit,
    CLogLog,
    Identity,
    Inverse,
    InverseSquared,
    Link,
    Log,
    Logit,
    LogLog,
    Power,
    Probit,
    Sqrt,
)
from jaxglm.multinomial import Multinomial, MultinomialResult
from jaxglm.paths import CVResult, PathResult, cv, path
from jaxglm.results import GLMResult, lr_test
from jaxglm.solvers import Newton, Optax, ProxNewton, SubsampledNewton
from jaxglm.streaming import PassInfo, fit_stream, memmap_chunks, parquet_chunks
from jaxglm.sweeps import BootstrapResult, bootstrap, fit_many

__version__ = "0.1.0"

__all__ = [
    "Bernoulli",
    "Binomial",
    "BootstrapResult",
    "CLogLog",
    "CVResult",
    "Canonical",
    "Categorical",
    "Cauchit",
    "ContrastResult",
    "ConvergenceWarning",
    "Design",
    "Family",
    "FormulaResult",
    "GLMResult",
    "Gamma",
    "Gaussian",
    "HypothesisTest",
    "Identity",
    "Influence",
    "Inverse",
    "InverseGaussian",
    "InverseSquared",
    "Link",
    "Log",
    "LogLog",
    "Logit",
    "Multinomial",
    "MultinomialResult",
    "NegativeBinomial",
    "Newton",
    "Optax",
    "PassInfo",
    "PathResult",
    "PerfectSeparationWarning",
    "Poisson",
    "Power",
    "Prediction",
    "Probit",
    "ProxNewton",
    "Sqrt",
    "Status",
    "SubsampledNewton",
    "Tweedie",
    "bootstrap",
    "categorical",
    "cv",
    "design",
    "distributed",
    "enable_compilation_cache",
    "fit",
    "fit_many",
    "fit_stream",
    "glm",
    "lr_test",
    "memmap_chunks",
    "parquet_chunks",
    "path",
    "shard_rows",
]
