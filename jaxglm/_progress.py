"""Progress bars between compiled chunks (tqdm, optional: ``pip install "jaxglm[progress]"``).

A bar is updated on the host after a compiled chunk of work has finished, never from inside
a compiled program: host callbacks inside a program would keep it out of JAX's persistent
compilation cache (shared/DESIGN.md) and would change the program that runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import jax

__all__ = ["Silent", "bar", "lagging"]


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


@contextlib.contextmanager
def lagging(bar: Any) -> Iterator[Callable[[Any, int], None]]:
    """``count(chunk, n)`` for the compiled chunks run inside the block: each chunk's ``n``
    reaches ``bar`` once it has finished computing, which is waited for when the next chunk
    has been dispatched (the last one on leaving the block), so the device keeps the next
    chunk queued while the bar updates. Without a bar (:class:`Silent`) nothing waits.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxglm._progress import Silent, lagging
        >>> with lagging(Silent()) as count:
        ...     count(jnp.ones(3) * 2, 3)
    """
    shown = not isinstance(bar, Silent)
    pending: list[tuple[Any, int]] = []

    def flush() -> None:
        if pending:
            chunk, n = pending.pop()
            jax.block_until_ready(chunk)
            bar.update(n)

    def count(chunk: Any, n: int) -> None:
        if shown:
            flush()
            pending.append((chunk, n))

    yield count
    flush()
