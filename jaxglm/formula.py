"""Formulas and data frames: :func:`glm` and :func:`design`.

A formula (``"claims ~ np.log(age) + C(region)"``, formulaic's grammar, as R's and
statsmodels') is turned into a design matrix, a response and names by formulaic, and the
fit is :func:`jaxglm.fit` on them: the same pipeline, not a second one. The model
specification (levels, transforms) is kept on the result, so that ``res.predict(new_frame)``
rebuilds the design of new data the same way. pandas and polars frames are accepted
(formulaic reads both).

Security: formulas are evaluated as Python expressions by formulaic (``np.log(x)`` calls
NumPy; any name in scope can be called): never evaluate a formula from an untrusted source.

:func:`glm` fits one model (statsmodels' ``smf.glm``); :func:`fit_many`, :func:`path`,
:func:`cv` and :func:`bootstrap` are the entry points of the same names on a formula, each
the array entry point on the formula's design (results named by term).

formulaic and pandas are optional dependencies (``pip install jaxglm[formula]``), imported
when a formula is used.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, NamedTuple

import numpy as np
from jax.typing import ArrayLike

from jaxglm import _frames, paths, sweeps
from jaxglm import families as F
from jaxglm import links as L
from jaxglm._fit import fit
from jaxglm._names import family_from_name, link_from_name
from jaxglm.inference import Prediction
from jaxglm.results import GLMResult, MultinomialResult

__all__ = ["Design", "FormulaResult", "bootstrap", "cv", "design", "fit_many", "glm", "path"]


class Design(NamedTuple):
    """A formula's data, ready for :func:`jaxglm.fit` and its sweeps.

    Attributes:
        y: (n,) response (codes ``0..k-1`` when the response holds labels).
        X: (n, p) pandas DataFrame, the design without the intercept, named by term.
        fit_intercept: whether the formula has an intercept (``- 1`` / ``+ 0`` remove it).
        model_spec: formulaic's ``ModelSpec`` of the right-hand side (levels, transforms).
        classes: the sorted labels of a label response (codes index them), else None.
    """

    y: np.ndarray
    X: Any
    fit_intercept: bool
    model_spec: Any
    classes: tuple | None


def design(formula: str, data: Any, labels: bool = False) -> Design:
    """The response and design of ``formula`` on ``data`` (a pandas or polars frame).

    Use it to run a formula through :func:`jaxglm.fit_many`, :func:`jaxglm.path`,
    :func:`jaxglm.cv` or :func:`jaxglm.bootstrap` (pass ``fit_intercept``). The formula is
    evaluated as Python by formulaic (module docs). Missing values raise (drop them first).

    Args:
        formula: ``"y ~ terms"``, formulaic's grammar.
        data: the frame.
        labels: read the response as class labels of any type (a column name on the left),
            mapped to codes ``0..k-1`` in sorted order (the first the reference class, as
            statsmodels' ``MNLogit``). A non-numeric response is always read as labels.

    Example:
        >>> import pandas as pd, jaxglm as jg
        >>> df = pd.DataFrame({"y": [1.0, 2, 0, 3], "x": [0.1, 0.4, 0.2, 0.9],
        ...                    "g": ["a", "b", "a", "c"]})
        >>> d = jg.formula.design("y ~ x + C(g)", df)
        >>> list(d.X.columns), d.fit_intercept
        (['x', 'C(g)[T.b]', 'C(g)[T.c]'], True)
    """
    try:
        import formulaic
        import pandas as pd
    except ImportError as err:
        raise ImportError(
            "formulas need formulaic and pandas: pip install 'jaxglm[formula]'"
        ) from err

    parsed = formulaic.Formula(formula)
    if not hasattr(parsed, "lhs"):
        raise ValueError(f"the formula needs a response: 'y ~ terms', got {formula!r}")
    lhs = str(parsed.lhs).strip()
    classes = None
    if lhs in list(data.columns) and (labels or _frames.numeric_kind(data[lhs]) is None):
        _frames.check_missing(f"the response column {lhs!r}", data[lhs])
        classes, y = np.unique(np.asarray(data[lhs].to_numpy()), return_inverse=True)
        classes = tuple(classes.tolist())
    else:
        y = _frames.to_numpy("the response", _materialize(parsed.lhs, data))
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
    rhs = _materialize(parsed.rhs, data)
    names = [str(c) for c in rhs.columns]
    fit_intercept = "Intercept" in names
    keep = [c for c in names if c != "Intercept"]
    values = np.asarray(rhs, dtype=float)[:, [names.index(c) for c in keep]]
    X = pd.DataFrame(values, columns=keep)
    return Design(np.asarray(y), X, fit_intercept, rhs.model_spec, classes)


def _materialize(formula: Any, data: Any, spec: Any = None) -> Any:
    """formulaic's model matrix of ``formula`` (or of ``spec`` on new data): missing values
    and levels not seen in the fit raise a ValueError."""
    import formulaic
    from formulaic.errors import FormulaicWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", FormulaicWarning)
        try:
            if spec is None:
                return formulaic.model_matrix(formula, data, na_action="raise")
            return spec.get_model_matrix(data, na_action="raise")
        except FormulaicWarning as err:
            raise ValueError(f"the new data do not fit the formula's design: {err}") from None


@dataclasses.dataclass(frozen=True)
class FormulaResult:
    """A fit from a formula: the :class:`jaxglm.GLMResult` (or
    :class:`jaxglm.MultinomialResult`) as ``result``, with the formula's model spec.

    Every attribute of ``result`` is available here (``res.deviance``, ``res.summary()``,
    ``res.t_test("age = 0")``, ``res.resid_deviance``); the parameter statistics are
    labelled by term: ``params``, ``bse``, ``tvalues``, ``pvalues`` are pandas Series
    (DataFrames with one column per non-reference class for Multinomial) and
    ``conf_int()`` a DataFrame, as statsmodels' formula results. ``res.result.params``
    is the array. :meth:`predict` and :meth:`get_prediction` take a new frame.
    """

    result: GLMResult | MultinomialResult
    formula: str
    model_spec: Any
    classes: tuple | None = None
    offset_column: str | None = None
    exposure_column: str | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "result":
            raise AttributeError(name)
        return getattr(self.result, name)

    def _labelled(self, values: Any) -> Any:
        import pandas as pd

        values = np.asarray(values)
        names = ["Intercept", *(self.result.feature_names or ())]
        if not self.result.fit_intercept:
            names = names[1:]
        if values.ndim == 2:
            first = 0 if self.result.family.symmetric else 1
            columns = list(self.classes or range(values.shape[1] + first))[first:]
            return pd.DataFrame(values, index=names, columns=columns)
        return pd.Series(values, index=names)

    @property
    def params(self) -> Any:
        """The parameters by term (a pandas Series; ``res.params["age"]``)."""
        return self._labelled(self.result.params)

    @property
    def bse(self) -> Any:
        """Standard errors by term."""
        return self._labelled(self.result.bse)

    @property
    def tvalues(self) -> Any:
        """Wald statistics by term."""
        return self._labelled(self.result.tvalues)

    @property
    def pvalues(self) -> Any:
        """p-values by term."""
        return self._labelled(self.result.pvalues)

    def conf_int(self, alpha: float = 0.05) -> Any:
        """Intervals by term: a DataFrame with columns ``lower`` and ``upper``."""
        import pandas as pd

        ci = np.asarray(self.result.conf_int(alpha))
        if ci.ndim != 2:
            raise ValueError("conf_int by term is for one GLM fit; use res.result.conf_int()")
        return pd.DataFrame(ci, index=self.params.index, columns=["lower", "upper"])

    def design(self, data: Any) -> Any:
        """The design of new ``data`` with the fit's levels and transforms (a DataFrame
        without the intercept). Levels not seen in the fit raise a ValueError."""
        import pandas as pd

        mm = _materialize(None, data, self.model_spec)
        names = [str(c) for c in mm.columns]
        keep = list(self.result.feature_names or ())
        return pd.DataFrame(np.asarray(mm, dtype=float)[:, [names.index(c) for c in keep]],
                            columns=keep)  # fmt: skip

    def _offsets(self, data: Any, offset: Any, exposure: Any) -> tuple[Any, Any]:
        """``offset``/``exposure`` for new data: as given (arrays or column names), else the
        fit's columns read from ``data``."""
        out = []
        for name, value, column in (
            ("offset", offset, self.offset_column),
            ("exposure", exposure, self.exposure_column),
        ):
            value = column if value is None else value
            if isinstance(value, str):
                if value not in list(data.columns):
                    raise ValueError(f"the fit's {name} column {value!r} is not in the data")
                value = _frames.to_numpy(name, data[value])
            out.append(value)
        return out[0], out[1]

    def predict(
        self,
        data: Any,
        offset: ArrayLike | str | None = None,
        exposure: ArrayLike | str | None = None,
        which: str | None = None,
    ) -> Any:
        """Predictions for a new frame, its design rebuilt from the formula.

        Args:
            data: a pandas or polars frame with the formula's variables.
            offset, exposure: arrays or column names; default: the columns named at the
                fit, when there were.
            which: ``"mean"`` (default) or ``"linear"``; for Multinomial
                ``"probability"`` (the (n, k) class probabilities, the default) or
                ``"class"`` (the most probable label).
        """
        X = self.design(data)
        offset, exposure = self._offsets(data, offset, exposure)
        if isinstance(self.result, MultinomialResult):
            which = "probability" if which is None else which
            out = self.result.predict(X, offset=_log_offset(offset, exposure), which=which)
            if which == "class" and self.classes:
                return np.asarray(self.classes)[np.asarray(out)]
            return out
        which = "mean" if which is None else which
        return self.result.predict(X, offset=offset, exposure=exposure, which=which)

    def get_prediction(
        self,
        data: Any,
        offset: ArrayLike | str | None = None,
        exposure: ArrayLike | str | None = None,
        alpha: float = 0.05,
    ) -> Prediction:
        """:meth:`jaxglm.GLMResult.get_prediction` (or
        :meth:`jaxglm.MultinomialResult.get_prediction`) for a new frame (as :meth:`predict`)."""
        X = self.design(data)
        offset, exposure = self._offsets(data, offset, exposure)
        if isinstance(self.result, MultinomialResult):
            off = _log_offset(offset, exposure)
            return self.result.get_prediction(X, offset=off, alpha=alpha)
        return self.result.get_prediction(X, offset=offset, exposure=exposure, alpha=alpha)

    def __repr__(self) -> str:
        return f"FormulaResult({self.formula!r}, {self.result!r})"


def _log_offset(offset: Any, exposure: Any) -> Any:
    if exposure is None:
        return offset
    log_exposure = np.log(np.asarray(exposure, float))
    return log_exposure if offset is None else np.asarray(offset, float) + log_exposure


def glm(
    formula: str,
    data: Any,
    family: F.Family | str | None = None,
    link: L.Link | str | None = None,
    *,
    weights: ArrayLike | str | None = None,
    freq_weights: ArrayLike | str | None = None,
    offset: ArrayLike | str | None = None,
    exposure: ArrayLike | str | None = None,
    groups: ArrayLike | str | None = None,
    **fit_options: Any,
) -> FormulaResult:
    """Fit a GLM from a formula and a data frame (statsmodels' ``smf.glm``).

    The formula (formulaic's grammar: ``np.log(x)``, ``I(x ** 2)``, ``a:b``, ``a * b``,
    ``C(g, Treatment(reference="b"))``, ``bs(x, df=4)``, ``- 1``) is evaluated as Python
    by formulaic: never evaluate a formula from an untrusted source. Categorical terms are
    dense treatment (dummy) columns. The fit is :func:`jaxglm.fit` on the design.

    Args:
        formula: ``"y ~ terms"``. For :class:`jaxglm.Multinomial` (or any non-numeric
            response) the left side is a column of labels of any type, mapped to codes in
            sorted order (the first is the reference class).
        data: a pandas or polars DataFrame.
        family, link: objects or names (``"poisson"``, ``"log"``: :mod:`jaxglm._names`).
        weights, freq_weights, offset, exposure: arrays or column names of ``data``.
        groups: cluster labels of any type (array or column name) for
            ``cov_type="cluster"``, mapped to codes.
        **fit_options: the other options of :func:`jaxglm.fit` (``alpha``, ``cov_type``,
            ``scale``, ``solver``, ...; not ``fit_intercept``: write ``- 1``).

    Returns:
        A :class:`FormulaResult`.

    Example:
        >>> import numpy as np, pandas as pd, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> df = pd.DataFrame({"age": rng.uniform(20, 60, 200),
        ...                    "region": rng.choice(["n", "s", "w"], 200)})
        >>> df["claims"] = rng.poisson(np.exp(-2 + 0.04 * df["age"]))
        >>> res = jg.glm("claims ~ age + C(region)", df, family="poisson")
        >>> list(res.params.index)
        ['Intercept', 'age', 'C(region)[T.s]', 'C(region)[T.w]']
        >>> res.predict(df.iloc[:3]).shape
        (3,)
    """
    d, family, link, columns = _inputs(
        "glm", formula, data, family, link, fit_options,
        weights=weights, freq_weights=freq_weights, offset=offset, exposure=exposure,
    )  # fmt: skip
    res = fit(
        d.X, d.y, family, link, fit_intercept=d.fit_intercept, groups=_groups(data, groups),
        **columns, **fit_options,
    )  # fmt: skip
    return _named(res, formula, d, offset, exposure)


def _inputs(
    entry: str, formula: str, data: Any, family: Any, link: Any, options: dict[str, Any],
    **columns: Any,
) -> tuple[Design, F.Family, L.Link | None, dict[str, Any]]:  # fmt: skip
    """The formula's design, the family and link objects (names resolved; a Multinomial's
    class count from the labels) and the per-row arguments read from ``data``."""
    if "fit_intercept" in options:
        raise TypeError(f"{entry} takes the intercept from the formula ('- 1' removes it)")
    family = family_from_name(family)
    link = link_from_name(link)
    d = design(formula, data, labels=isinstance(family, F.Multinomial))
    if isinstance(family, F.Multinomial) and family.n_classes is None and d.classes:
        family = dataclasses.replace(family, n_classes=len(d.classes))
    return d, family, link, {k: _column(data, k, v) for k, v in columns.items()}


def _groups(data: Any, groups: Any) -> Any:
    """Cluster labels of any type (an array or a column name of ``data``) as codes."""
    if isinstance(groups, str):
        _frames.check_missing(f"groups column {groups!r}", data[groups])
        groups = data[groups]
    if groups is None:
        return None
    labels = np.asarray(groups.to_numpy() if _frames.is_frame(groups) else groups)
    return np.unique(labels, return_inverse=True)[1]


def _named(res: Any, formula: str, d: Design, offset: Any, exposure: Any) -> FormulaResult:
    return FormulaResult(
        res, formula, d.model_spec, d.classes,
        offset if isinstance(offset, str) else None,
        exposure if isinstance(exposure, str) else None,
    )  # fmt: skip


def fit_many(
    formula: str,
    data: Any,
    family: F.Family | str | None = None,
    link: L.Link | str | None = None,
    *,
    weights: ArrayLike | str | None = None,
    freq_weights: ArrayLike | str | None = None,
    offset: ArrayLike | str | None = None,
    exposure: ArrayLike | str | None = None,
    groups: ArrayLike | str | None = None,
    **options: Any,
) -> GLMResult:
    """:func:`jaxglm.fit_many` on a formula: one fit per response column of its left side
    (``"y1 + y2 + y3 ~ x + C(g)"``), or one response fitted once per member of the
    per-member options (``alpha`` of shape (m,), ``weights`` of shape (m, n), ...).

    Args:
        formula, data, family, link, groups: as :func:`glm`.
        weights, freq_weights, offset, exposure: column names of ``data`` (shared by all
            members) or arrays, (n,) shared or (m, n) per member.
        **options: the other options of :func:`jaxglm.fit_many`.

    Returns:
        The batched :class:`jaxglm.GLMResult`, parameters named by term.

    Example:
        >>> import numpy as np, pandas as pd, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> df = pd.DataFrame({"x": rng.normal(size=100), "g": rng.choice(["a", "b"], 100)})
        >>> df["y1"], df["y2"] = rng.poisson(1.0, 100), rng.poisson(2.0, 100)
        >>> res = jg.formula.fit_many("y1 + y2 ~ x + C(g)", df, "poisson")
        >>> res.params.shape, res.param_names
        ((2, 3), ['Intercept', 'x', 'C(g)[T.b]'])
    """
    d, family, link, columns = _inputs(
        "fit_many", formula, data, family, link, options,
        weights=weights, freq_weights=freq_weights, offset=offset, exposure=exposure,
    )  # fmt: skip
    Y = d.y.T if d.y.ndim == 2 else np.broadcast_to(d.y, (_members(columns, options), *d.y.shape))
    return sweeps.fit_many(
        d.X, Y, family, link, fit_intercept=d.fit_intercept, groups=_groups(data, groups),
        **columns, **options,
    )  # fmt: skip


def _members(columns: dict[str, Any], options: dict[str, Any]) -> int:
    """The number of members of a one-response fit_many: from its per-member options."""
    sizes = {np.shape(v)[0] for k, v in columns.items() if v is not None and np.ndim(v) == 2}
    if np.ndim(options.get("alpha", 0.0)) == 1:
        sizes.add(np.shape(options["alpha"])[0])
    if len(sizes) != 1:
        raise ValueError(
            "fit_many on a formula needs several responses ('y1 + y2 ~ x') or options given "
            f"per member (alpha (m,), weights (m, n), ...) of one size m, got sizes {sorted(sizes)}"
        )
    return sizes.pop()


def path(
    formula: str,
    data: Any,
    family: F.Family | str | None = None,
    link: L.Link | str | None = None,
    *,
    weights: ArrayLike | str | None = None,
    freq_weights: ArrayLike | str | None = None,
    offset: ArrayLike | str | None = None,
    exposure: ArrayLike | str | None = None,
    **options: Any,
) -> paths.PathResult:
    """:func:`jaxglm.path` on a formula (the coefficients named by term: ``feature_names``).

    Args:
        formula, data, family, link, weights, freq_weights, offset, exposure: as :func:`glm`.
        **options: the other options of :func:`jaxglm.path` (``l1_ratio``, ``n_alphas``, ...).

    Example:
        >>> import numpy as np, pandas as pd, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> df = pd.DataFrame({"x": rng.normal(size=200), "g": rng.choice(["a", "b"], 200)})
        >>> df["y"] = rng.poisson(np.exp(0.5 * df["x"]))
        >>> res = jg.formula.path("y ~ x + C(g)", df, "poisson", n_alphas=5)
        >>> res.coef.shape, res.feature_names
        ((5, 2), ('x', 'C(g)[T.b]'))
    """
    d, family, link, columns = _inputs(
        "path", formula, data, family, link, options,
        weights=weights, freq_weights=freq_weights, offset=offset, exposure=exposure,
    )  # fmt: skip
    return paths.path(d.X, d.y, family, link, fit_intercept=d.fit_intercept, **columns, **options)


def cv(
    formula: str,
    data: Any,
    family: F.Family | str | None = None,
    link: L.Link | str | None = None,
    *,
    weights: ArrayLike | str | None = None,
    freq_weights: ArrayLike | str | None = None,
    offset: ArrayLike | str | None = None,
    exposure: ArrayLike | str | None = None,
    **options: Any,
) -> paths.CVResult:
    """:func:`jaxglm.cv` on a formula. Its ``refit`` is a :class:`FormulaResult`
    (``res.refit.predict(new_frame)``), its path named by term.

    Args:
        formula, data, family, link, weights, freq_weights, offset, exposure: as :func:`glm`.
        **options: the other options of :func:`jaxglm.cv` (``n_folds``, ``l1_ratio``, ...).

    Example:
        >>> import numpy as np, pandas as pd, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> df = pd.DataFrame({"x": rng.normal(size=200), "g": rng.choice(["a", "b"], 200)})
        >>> df["y"] = rng.poisson(np.exp(0.5 * df["x"]))
        >>> res = jg.formula.cv("y ~ x + C(g)", df, "poisson", n_alphas=5, n_folds=3)
        >>> list(res.refit.params.index), res.refit.predict(df.iloc[:2]).shape
        (['Intercept', 'x', 'C(g)[T.b]'], (2,))
    """
    d, family, link, columns = _inputs(
        "cv", formula, data, family, link, options,
        weights=weights, freq_weights=freq_weights, offset=offset, exposure=exposure,
    )  # fmt: skip
    res = paths.cv(d.X, d.y, family, link, fit_intercept=d.fit_intercept, **columns, **options)
    return dataclasses.replace(res, refit=_named(res.refit, formula, d, offset, exposure))


def bootstrap(
    formula: str,
    data: Any,
    family: F.Family | str | None = None,
    link: L.Link | str | None = None,
    *,
    weights: ArrayLike | str | None = None,
    freq_weights: ArrayLike | str | None = None,
    offset: ArrayLike | str | None = None,
    exposure: ArrayLike | str | None = None,
    groups: ArrayLike | str | None = None,
    **options: Any,
) -> sweeps.BootstrapResult:
    """:func:`jaxglm.bootstrap` on a formula. Its ``fit`` is a :class:`FormulaResult`; the
    replicates' ``params`` columns follow ``res.fit.params.index``.

    Args:
        formula, data, family, link, weights, freq_weights, offset, exposure, groups: as
            :func:`glm`.
        **options: the other options of :func:`jaxglm.bootstrap` (``n_boot``, ``key``, ...).

    Example:
        >>> import numpy as np, pandas as pd, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> df = pd.DataFrame({"x": rng.normal(size=200)})
        >>> df["y"] = rng.poisson(np.exp(0.3 * df["x"]))
        >>> boot = jg.formula.bootstrap("y ~ x", df, "poisson", n_boot=50, key=1)
        >>> list(boot.fit.params.index), boot.params.shape
        (['Intercept', 'x'], (50, 2))
    """
    d, family, link, columns = _inputs(
        "bootstrap", formula, data, family, link, options,
        weights=weights, freq_weights=freq_weights, offset=offset, exposure=exposure,
    )  # fmt: skip
    res = sweeps.bootstrap(
        d.X, d.y, family, link, fit_intercept=d.fit_intercept, groups=_groups(data, groups),
        **columns, **options,
    )  # fmt: skip
    return dataclasses.replace(res, fit=_named(res.fit, formula, d, offset, exposure))


def _column(data: Any, name: str, value: Any) -> Any:
    """A per-row argument given as a column name of ``data`` (or an array, as it is)."""
    if not isinstance(value, str):
        return value.to_numpy() if _frames.is_frame(value) else value
    if value not in list(data.columns):
        raise ValueError(f"{name}={value!r} is not a column of the data")
    return _frames.to_numpy(f"{name} column {value!r}", data[value])
