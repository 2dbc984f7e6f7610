"""Joining a multi-process run: :func:`initialize`."""

from __future__ import annotations

import os

import jax

COORDINATOR_ENV = "JAXGLM_COORDINATOR"
"""The environment variables the launcher (:mod:`jaxglm.distributed.launch`) sets for each
process: the coordinator's ``host:port``, the number of processes and this one's index."""
NUM_PROCESSES_ENV = "JAXGLM_NUM_PROCESSES"
PROCESS_ID_ENV = "JAXGLM_PROCESS_ID"


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    cluster_detection_method: str | None = None,
    initialization_timeout: int = 60,
    cpu_collectives: str = "gloo",
) -> None:
    """Join this process to a multi-process run (``jax.distributed.initialize``).

    Call it once, first, in every process, before anything else touches JAX's devices.
    The arguments default to the environment the launcher sets (``JAXGLM_COORDINATOR``,
    ``JAXGLM_NUM_PROCESSES``, ``JAXGLM_PROCESS_ID``); without them JAX detects its peers
    itself where it can (SLURM, Open MPI's ``mpirun``, Kubernetes/TPU pods: README,
    "Scaling out"). On the CPU the processes exchange their all-reduces through gloo
    (``cpu_collectives``; JAX's option ``jax_cpu_collectives_implementation``, which this
    sets: an explicit call, never an import, changes it).

    A process whose peer dies is aborted by JAX's runtime (SIGABRT), and one whose peer
    never joins waits ``initialization_timeout`` seconds: run multi-process fits under a
    supervisor with a time limit (the launcher, SLURM, a Kubernetes Job).

    Args:
        coordinator_address: ``host:port`` of process 0's coordinator service.
        num_processes: the number of processes.
        process_id: this process's index in ``0..num_processes-1``.
        cluster_detection_method: JAX's name of the environment to read its peers from
            (``"mpi4py"`` for an MPI other than Open MPI; None: JAX's automatic
            detection of SLURM, Open MPI, Kubernetes and TPU pods).
        initialization_timeout: seconds to wait for every process to join.
        cpu_collectives: ``"gloo"`` (default) or ``"mpi"`` (JAX's CPU collectives).

    Example (each of two processes runs this script; see ``jaxglm.distributed.launch``):
        >>> import jaxglm as jg                                    # doctest: +SKIP
        >>> jg.distributed.initialize()                            # doctest: +SKIP
        >>> data = jg.shard_rows(X_local, y_local)                 # doctest: +SKIP
        >>> res = jg.fit(**data, family=jg.Poisson())              # doctest: +SKIP
    """
    env = os.environ
    if coordinator_address is None and COORDINATOR_ENV in env:
        coordinator_address = env[COORDINATOR_ENV]
        num_processes = int(env[NUM_PROCESSES_ENV]) if num_processes is None else num_processes
        process_id = int(env[PROCESS_ID_ENV]) if process_id is None else process_id
    jax.config.update("jax_cpu_collectives_implementation", cpu_collectives)
    jax.distributed.initialize(
        coordinator_address=coordinator_address,
        num_processes=num_processes,
        process_id=process_id,
        cluster_detection_method=cluster_detection_method,
        initialization_timeout=initialization_timeout,
    )
