"""Opt-in persistent compilation cache: compiled programs survive the process.

A first fit traces and compiles its program (about 0.5-8 s on a CPU; shared/DESIGN.md);
a new process pays it again. :func:`enable_compilation_cache` points JAX's persistent
cache at a directory, so that a later process with the same program (family, link,
solver, ``p``, dtype, size bucket of ``n``, jax version and device) loads the compiled
executable from disk instead of compiling it. Tracing and lowering (turning the Python
functions into a program) are not cached and still happen once per process and program:
measured here, the first Poisson fit (n = 1,000, p = 10) of a fresh process took 3.3-4.6 s
without the cache and 1.0 s with it warm.
"""

from __future__ import annotations

import os

import jax
from jax.experimental.compilation_cache import compilation_cache

__all__ = ["enable_compilation_cache"]


def enable_compilation_cache(path: str | os.PathLike[str]) -> None:
    """Store and reuse compiled programs in ``path`` (JAX's persistent compilation cache).

    Sets ``jax_compilation_cache_dir`` to ``path`` and
    ``jax_persistent_cache_min_compile_time_secs`` to 0: with JAX's default (1 s) the
    programs of small fits, which compile in under a second, would never be stored. This
    changes JAX's global configuration for the whole process, which is why it is opt-in
    and never done at import. JAX decides whether to use its cache at the first compile
    of the process; the cache's state is reset here, so that the call takes effect after
    earlier compiles too (those programs are not written to the cache until compiled
    again, e.g. in a new process).

    Args:
        path: a directory (created if missing); it may be shared between processes.

    Example:
        >>> import tempfile, jaxglm as jg
        >>> jg.enable_compilation_cache(tempfile.mkdtemp())  # doctest: +SKIP
    """
    path = os.fspath(path)
    os.makedirs(path, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    compilation_cache.reset_cache()
