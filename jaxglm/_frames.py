"""Data frames and series at the boundary: pandas and polars inputs to plain arrays.

:func:`jaxglm.fit` accepts pandas (and polars) frames and series. Their columns are turned
into NumPy arrays here, once, before the one validation: bool, nullable (``Int64``,
``Float64``, ``boolean``) and other numeric extension dtypes become numbers, a column that
is not numeric or holds a missing value is named in the error, and a series or frame whose
index is not the design's (pandas) is refused, as statsmodels refuses unaligned data.
Neither pandas nor polars is imported here: a frame is recognized by its type's module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_missing", "is_frame", "numeric_kind", "to_host", "to_numpy"]


def _library(value: Any) -> str | None:
    module = type(value).__module__.split(".")[0]
    return module if module in ("pandas", "polars") else None


def is_frame(value: Any) -> bool:
    """Whether ``value`` is a pandas or polars DataFrame or Series."""
    return _library(value) is not None and hasattr(value, "shape")


def to_host(arrays: dict[str, Any], groups: Any = None) -> tuple[dict[str, Any], Any]:
    """The arrays of a fit with every frame or series as a NumPy array (others as given).

    Raises:
        ValueError: a non-numeric column or a missing value (named), or a pandas series or
            frame whose index differs from ``X``'s.

    Example:
        >>> import pandas as pd
        >>> from jaxglm._frames import to_host
        >>> X = pd.DataFrame({"a": [1.0, 2.0], "b": pd.array([True, False], dtype="boolean")})
        >>> out, _ = to_host({"X": X, "y": pd.Series([1, 2], dtype="Int64")})
        >>> out["X"].tolist(), out["y"].dtype.name
        ([[1.0, 1.0], [2.0, 0.0]], 'int64')
    """
    X = arrays.get("X")
    index = getattr(X, "index", None) if _library(X) == "pandas" else None
    out = dict(arrays)
    for name, value in arrays.items():
        if is_frame(value):
            _check_index(name, value, index)
            out[name] = to_numpy(name, value)
    if is_frame(groups):
        _check_index("groups", groups, index)
        groups = np.asarray(groups.to_numpy())
    return out, groups


def _check_index(name: str, value: Any, index: Any) -> None:
    other = getattr(value, "index", None)
    if index is None or other is None or _library(value) != "pandas" or name == "X":
        return
    if not other.equals(index):
        raise ValueError(
            f"{name}'s index is not X's (pandas aligns by index, jaxglm by position): "
            f"reindex it (e.g. {name}.loc[X.index]) or pass {name}.to_numpy()"
        )


def to_numpy(name: str, value: Any) -> np.ndarray:
    """A frame (n, p) or a series (n,) as numbers; the first bad column named."""
    if len(value.shape) == 1:
        return _column(name, value)
    columns = [_column(f"{name} column {c!r}", value[c]) for c in value.columns]
    if not columns:
        return np.empty((value.shape[0], 0))
    return np.column_stack([c.astype(np.result_type(*columns), copy=False) for c in columns])


def _column(where: str, series: Any) -> np.ndarray:
    kind = numeric_kind(series)
    if kind is None:
        raise ValueError(
            f"{where} must be numeric or bool, got dtype {series.dtype}: encode categories "
            "first (jaxglm.glm with a formula does) or drop the column"
        )
    check_missing(where, series)
    return np.asarray(series.to_numpy(), dtype=kind)


def check_missing(where: str, series: Any) -> None:
    """Raise a ValueError naming ``where`` and the first row of a missing value (pandas
    NA/NaN/None, polars null)."""
    missing = np.asarray(series.is_null() if _library(series) == "polars" else series.isna())
    if missing.any():
        raise ValueError(
            f"{where} has a missing value at row {int(np.argmax(missing))}: drop or fill "
            "missing values first"
        )


def numeric_kind(series: Any) -> type | None:
    """The NumPy dtype of a numeric or bool column (int64 for integers, float64 for bool and
    real numbers), None for anything else."""
    dtype = series.dtype
    if _library(series) == "polars":
        if dtype.is_integer():
            return np.int64
        return np.float64 if dtype.is_numeric() or str(dtype) == "Boolean" else None
    import pandas as pd

    if pd.api.types.is_bool_dtype(dtype):
        return np.float64
    if pd.api.types.is_integer_dtype(dtype):
        return np.int64
    if pd.api.types.is_numeric_dtype(dtype):
        return np.float64
    return None
