"""Rows placed over devices (and processes): :func:`shard_rows`."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jax.typing import ArrayLike

from jaxglm import _padding
from jaxglm.designs import Design
from jaxglm.inference import ClusterCodes


def shard_rows(
    X: ArrayLike,
    y: ArrayLike,
    weights: ArrayLike | None = None,
    offset: ArrayLike | None = None,
    *,
    freq_weights: ArrayLike | None = None,
    exposure: ArrayLike | None = None,
    groups: ArrayLike | None = None,
    mesh: Mesh | None = None,
) -> dict[str, Any]:
    """The rows of a fit padded to equal shards and placed over the devices of ``mesh``.

    The rows are padded (NumPy, on the host) to a multiple of the number of devices with
    rows of prior weight 0, which no statistic counts (as the size buckets of
    :func:`jaxglm.fit`), and placed with ``NamedSharding(mesh, P(mesh.axis_names))``: row
    block ``d`` on device ``d``. The dict returned holds ``X``, ``y``, ``weights`` and
    whichever of ``offset``, ``freq_weights``, ``exposure``, ``groups`` were given, so
    ``jg.fit(**jg.shard_rows(X, y, weights=w), family=...)`` fits them; ``fit_many``,
    ``path``, ``cv`` and ``bootstrap`` take them too. The fit is the one-device fit of the
    padded rows (the same compiled program, partitioned by XLA: its reductions over rows
    are all-reduces of p-sized and p x p arrays), and its result is replicated on every
    device.

    ``X`` may be a :class:`jaxglm.Design` of dense and categorical blocks (one process):
    its dense block and codes are padded and sharded by rows, its levels and names kept.

    Cluster labels are coded ``0..G-1`` here, on the host, and returned as
    :class:`jaxglm.inference.ClusterCodes`, so that the fit sums the scores per cluster in
    a (G, p+1) array (one all-reduce) rather than coding them by a sort over all rows.

    Multi-process (after :func:`jaxglm.distributed.initialize`): every process passes its
    own rows (any number, at least one), and the global arrays are built from them
    (``jax.make_array_from_process_local_data``); each process's rows are padded to the
    largest count (found by an all-reduce), so that every device holds an equal shard.
    ``groups`` must then be codes ``0..G-1`` common to all processes (G is their global
    maximum + 1, by an all-reduce).

    Args:
        X: (n, p) design (this process's rows), an array or a :class:`jaxglm.Design`
            without a sparse block.
        y: (n,) response, or (m, n) responses of :func:`jaxglm.fit_many` (members first;
            ``Y = data.pop("y")``, since ``fit_many`` names it ``Y``).
        weights, offset, freq_weights, exposure: (n,) as :func:`jaxglm.fit`.
        groups: (n,) integer cluster labels for ``cov_type="cluster"``.
        mesh: a :class:`jax.sharding.Mesh`; its devices, all axes together, hold the row
            blocks. Default: a one-axis mesh ``("rows",)`` of all devices
            (``jax.devices()``: every process's, in a multi-process run).

    Returns:
        The keyword arguments of :func:`jaxglm.fit` for these rows, as ``jax.Array``
        sharded by rows (``groups`` as :class:`jaxglm.inference.ClusterCodes`).

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(301, 2))
        >>> y = rng.poisson(np.exp(0.2 + X @ [0.3, -0.1]))
        >>> data = jg.shard_rows(X, y)
        >>> res = jg.fit(**data, family=jg.Poisson())
        >>> bool(np.allclose(res.params, jg.fit(X, y, jg.Poisson()).params))
        True
    """
    mesh = Mesh(np.array(jax.devices()), ("rows",)) if mesh is None else mesh
    local_devices = sum(d.process_index == jax.process_index() for d in mesh.devices.flat)
    multi = jax.process_count() > 1
    design = isinstance(X, Design)
    if design:
        _check_design(X, multi)
    n = np.shape(X)[0]
    if np.ndim(X) != 2 or n < 1:
        raise ValueError(f"X must be (n, p) with n >= 1 in every process, got {np.shape(X)}")
    arrays = dict(
        X=X, y=y, weights=weights, freq_weights=freq_weights, offset=offset, exposure=exposure
    )
    arrays = {k: v if v is None or (k == "X" and design) else _host(v) for k, v in arrays.items()}
    counts = _all_counts(n, mesh) if multi else np.array([n])
    n_to = -(-int(counts.max()) // local_devices) * local_devices
    members = ("y",) if np.ndim(y) == 2 else ()
    padded = _padding.pad_fit_arrays(arrays, n_to, members)
    if padded["weights"] is None:  # no padding was needed: the same keys all the same
        padded["weights"] = np.ones(n_to, padded["X"].dtype)
    out = {k: _place(v, mesh, int(k in members)) for k, v in padded.items() if v is not None}
    _padding.record_rows(out["X"], _caller_rows(jax.tree.leaves(out["X"])[0], counts, n_to))
    if groups is not None:
        labels = np.asarray(groups)
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"groups must be ({n},) integer labels, got {labels.dtype} {labels.shape}"
            )
        if multi:
            if labels.min() < 0:
                raise ValueError("groups must be codes 0..G-1 in a multi-process run")
            codes, n_clusters = labels, int(_all_counts(int(labels.max()), mesh).max()) + 1
        else:
            uniques, codes = np.unique(labels, return_inverse=True)
            n_clusters = len(uniques)
        codes = _padding.pad_labels(codes.astype(np.int32), n_to)
        out["groups"] = ClusterCodes(_place(codes, mesh), n_clusters)
    return out


def _host(value: Any) -> np.ndarray:
    """A row argument as a NumPy array, in floating point (a float array as it is)."""
    arr = np.asarray(value)
    return arr if np.issubdtype(arr.dtype, np.floating) else arr.astype(np.result_type(float))


def _check_design(X: Design, multi: bool) -> None:
    """ValueError for a design :func:`shard_rows` does not place: one with a sparse block
    (its non-zeros are not indexed by rows), or any in a multi-process run (a design's
    checks read all its rows on the host)."""
    if multi:
        raise ValueError(
            "shard_rows places a jaxglm.Design over the devices of one process only; over "
            "several processes pass a dense X (e.g. the design's one-hot columns)"
        )
    if X.sparse is not None:
        raise ValueError(
            "shard_rows places a jaxglm.Design's dense and categorical blocks, not a sparse "
            "block (its non-zeros are not split by rows): pass its columns as dense ones"
        )


def _place(local: Any, mesh: Mesh, axis: int = 0) -> Any:
    """This process's (padded) rows, along ``axis``, as its blocks of the global array
    sharded by rows over all axes of ``mesh``; a design's every block (all are row blocks:
    :func:`_check_design`), its levels and names as they are."""
    if isinstance(local, Design):
        return jax.tree.map(lambda block: _place(np.asarray(block), mesh), local)
    spec = [None] * local.ndim
    spec[axis] = mesh.axis_names
    shape = list(local.shape)
    shape[axis] *= jax.process_count()
    return jax.make_array_from_process_local_data(
        NamedSharding(mesh, PartitionSpec(*spec)), local, tuple(shape)
    )


def _all_counts(value: int, mesh: Mesh) -> np.ndarray:
    """Every process's ``value``, in process order: one all-reduce (every process calls it)
    of a vector holding this process's ``value`` at its index and zeros elsewhere."""
    local_devices = sum(d.process_index == jax.process_index() for d in mesh.devices.flat)
    local = np.zeros((local_devices, jax.process_count()), np.int32)
    local[0, jax.process_index()] = value
    return np.asarray(_sum_rows(_place(local, mesh)))


@jax.jit
def _sum_rows(values: jax.Array) -> jax.Array:
    return jnp.sum(values, axis=0)


def _caller_rows(X: jax.Array, counts: np.ndarray, n_to: int) -> np.ndarray:
    """The padded global row of each of the caller's rows (process 0's ``counts[0]`` rows,
    then process 1's, ...): process ``k``'s padded block of ``n_to`` rows lies on its
    devices' row blocks of ``X``, in their order."""
    blocks = X.sharding.devices_indices_map(X.shape)
    rows = []
    for process, count in enumerate(counts):
        mine = sorted(
            blocks[d][0].indices(X.shape[0])[:2]
            for d in X.sharding.device_set
            if d.process_index == process
        )
        rows.append(np.concatenate([np.arange(lo, hi) for lo, hi in mine])[:count])
    return np.concatenate(rows)
