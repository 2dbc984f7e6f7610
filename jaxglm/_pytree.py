"""Frozen dataclasses registered as JAX pytrees.

Fields marked with :func:`static_field` are part of the tree structure (they pick the
compiled program); every other field is a leaf, so numbers can be traced, vmapped and
differentiated (STYLE.md, point 1).
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import jax

T = TypeVar("T")


def static_field(**kwargs: Any) -> Any:
    """A dataclass field that is static under ``jit`` (part of the treedef)."""
    return dataclasses.field(metadata={"static": True}, **kwargs)


def pytree_dataclass(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen dataclass and register it as a pytree.

    Registered with ``register_pytree_with_keys`` rather than ``register_dataclass``: with
    jax 0.10 the latter gives field-less classes (``Probit()``, ``Cauchit()``) tree
    structures that compare equal, so ``jit`` could hand one class the other's compiled
    program on a hash collision. Here the node type is part of the structure.
    """
    cls = dataclasses.dataclass(frozen=True)(cls)
    fields = dataclasses.fields(cls)
    data = tuple(f.name for f in fields if not f.metadata.get("static", False))
    meta = tuple(f.name for f in fields if f.metadata.get("static", False))

    def flatten_with_keys(obj):
        children = [(jax.tree_util.GetAttrKey(n), getattr(obj, n)) for n in data]
        return children, tuple(getattr(obj, n) for n in meta)

    def flatten(obj):
        return [getattr(obj, n) for n in data], tuple(getattr(obj, n) for n in meta)

    def unflatten(aux, children):
        obj = object.__new__(cls)
        for name, value in (*zip(data, children, strict=True), *zip(meta, aux, strict=True)):
            object.__setattr__(obj, name, value)
        return obj

    jax.tree_util.register_pytree_with_keys(cls, flatten_with_keys, unflatten, flatten)
    return cls
