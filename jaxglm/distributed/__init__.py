"""Fits beyond one device and one process: rows sharded over devices, and processes joined
by JAX's distributed runtime.

* :func:`shard_rows` pads the rows to equal shards (rows of weight 0, as the size buckets
  do) and places them with a row :class:`jax.sharding.NamedSharding`; the dict it returns
  is the keyword arguments of :func:`jaxglm.fit` (and of :func:`jaxglm.fit_many`,
  :func:`jaxglm.path`, :func:`jaxglm.cv`, :func:`jaxglm.bootstrap`). XLA's partitioner
  runs the same compiled fit on every shard: each reduction over rows (the score, the Gram
  matrix ``X^T W X``, the objective, the cluster score sums) becomes an all-reduce of a
  p-sized or p x p array, and the results come back replicated.
* :func:`initialize` joins the processes of a multi-process run (a thin layer over
  ``jax.distributed.initialize``, with the gloo collectives on the CPU); then every
  process passes its own rows to :func:`shard_rows`, which builds the global arrays
  (``jax.make_array_from_process_local_data``), and every process runs the same script
  and gets the same result. ``python -m jaxglm.distributed.launch --nproc N script.py``
  starts N such processes on one machine (:mod:`jaxglm.distributed.launch`).
"""

from jaxglm.distributed._runtime import initialize
from jaxglm.distributed._shard import shard_rows

__all__ = ["initialize", "shard_rows"]
