"""Progress bars between compiled chunks (tqdm, optional: ``pip install "jaxglm[progress]"``).

A bar is updated on the host after a compiled chunk of work has finished, never from inside
a compiled program: host callbacks inside a program would keep it out of JAX's persistent
compilation cache (shared/DESIGN.md) and would change the program that runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import jax

__all__ = ["Silent", "bar", "done"]


class Silent:
    def update(self, n: int) -> None:
        """Nothing to show."""


@contextlib.contextmanager
def bar(enabled: bool, total: int | None, unit: str) -> Iterator[Any]:
    """A tqdm bar of ``total`` units (None: unknown) when ``enabled`` (else an object whose
    ``update`` does nothing), closed on exit.

    Raises:
        ImportError: ``enabled`` and tqdm is not installed.

    Example:
        >>> from jaxglm._progress import bar
        >>> with bar(False, 10, "fits") as b:
        ...     b.update(10)
    """
    if not enabled:
        yield Silent()
        return
    try:
        from tqdm.auto import tqdm
    except ImportError as err:
        raise ImportError('progress=True needs tqdm: pip install "jaxglm[progress]"') from err
    with tqdm(total=total, unit=f" {unit}", dynamic_ncols=True) as progress_bar:
        yield progress_bar


def done(chunk: Any, count: int) -> int:
    """``count`` once the compiled ``chunk`` (a pytree of arrays) has finished computing.
    Called for chunk ``k`` after chunk ``k + 1`` is dispatched, the wait overlaps the next
    chunk's work instead of leaving the device idle between chunks.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxglm._progress import done
        >>> done((jnp.ones(3) * 2, jnp.zeros(2)), 3)
        3
    """
    jax.block_until_ready(chunk)
    return count
