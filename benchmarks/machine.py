"""A description of the machine and software a benchmark ran on."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import jax
import numpy as np

if TYPE_CHECKING:
    from benchmarks.rule import Load

#: Environment variables that change BLAS or XLA speed; reported when set.
PERFORMANCE_ENV = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "XLA_FLAGS",
)
PACKAGES = (
    "numpy",
    "scipy",
    "jax",
    "jaxlib",
    "statsmodels",
    "scikit-learn",
    "glum",
    "glmax",
    "jaxglm",
)


def start(module: str) -> Load:
    """The start of a float64 benchmark script, after :func:`benchmarks.rule.pin`: x64 on,
    the command line (``python -m benchmarks.<module> ...``, as run) and
    :func:`describe_machine`'s block printed; returns the load before the tables
    (for :func:`benchmarks.rule.load_note`)."""
    from benchmarks.rule import load_per_core

    jax.config.update("jax_enable_x64", True)
    print(f"Command: `{shlex.join(['python', '-m', f'benchmarks.{module}', *sys.argv[1:]])}`")
    print()
    print("\n".join(describe_machine()) + "\n")
    return load_per_core()


def describe_machine() -> list[str]:
    """Markdown bullet lines: CPU, the cores this process may run on (``--cores``,
    :func:`benchmarks.rule.pin`), BLAS, JAX devices, versions, load, env variables."""
    usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = f"{len(usable)} cores usable ({','.join(map(str, usable))})" if usable else "cores"
    devices = ", ".join(f"{d.platform}:{d.device_kind}" for d in jax.devices())
    lines = [
        f"- CPU: {_cpu_model()}, {cores} of {os.cpu_count()} online",
        f"- BLAS: {_blas()}",
        f"- JAX backend: {jax.default_backend()} ({devices})",
        f"- Python {platform.python_version()}; {_versions()}",
    ]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines.append(f"- Load average at the start (1, 5, 15 min): {load}")
    env = [f"{k}={os.environ[k]}" for k in PERFORMANCE_ENV if k in os.environ]
    lines.append(f"- Environment: {', '.join(env) if env else 'no BLAS/XLA variables set'}")
    return lines


def _cpu_model() -> str:
    """The CPU model name from ``/proc/cpuinfo``, else ``platform.processor()``."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _blas() -> str:
    """The BLAS libraries loaded (threadpoolctl), else NumPy's build configuration."""
    import scipy.linalg  # noqa: F401  (load SciPy's BLAS too, so that it is listed)

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')} (NumPy build config)"
    return "; ".join(
        f"{info['internal_api']} {info['version']} ({info.get('architecture', '?')}, "
        f"{info['num_threads']} threads) from {Path(info['filepath']).parent.name}"
        for info in threadpool_info()
        if info["user_api"] == "blas"
    )


def _versions() -> str:
    """Installed versions of the benchmarked packages and their numerical stack."""
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)
