"""A Griffe extension that lets mkdocstrings read jaxglm's docstrings.

jaxglm's docstrings are Google style with Sphinx cross-reference roles (``:func:`fit```,
``:math:`a(\\theta)```) and ``Example:`` sections. Griffe's Google parser makes a doctest
section only of ``Examples:`` and prints the roles as they are, so this extension rewrites
each docstring before it is parsed: ``Example:`` becomes ``Examples:``, a role becomes
the plain code span (the name or formula, as written), and an argument list that wraps
(``X, y, family, ...,`` continued on the next line, before its colon) is joined into one
line, as Griffe reads one name list per line.
"""

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:func|class|meth|attr|mod|data|exc|obj|math):`")
_EXAMPLE = re.compile(r"^(\s*)Example:$", re.M)
_WRAPPED_NAMES = re.compile(r"^(\s+\w+(?:, \w+)*,)\n\s+(?=\w+(?:, \w+)*[:,]\s)", re.M)


class SphinxRoles(griffe.Extension):
    """Rewrite ``Example:`` and Sphinx roles in every docstring of the loaded package."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            text = _EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
            while _WRAPPED_NAMES.search(text):
                text = _WRAPPED_NAMES.sub(r"\1 ", text)
            obj.docstring.value = _ROLE.sub("`", text)
