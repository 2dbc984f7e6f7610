"""A Griffe extension that lets mkdocstrings read jaxglm's docstrings.

jaxglm's docstrings are Google style with Sphinx cross-reference roles (``:func:`fit```,
``:math:`a(\\theta)```), a few reStructuredText blocks (``.. math::``, ``::``) and
``Example:`` sections. Griffe's Google parser makes a doctest section only of
``Examples:`` and prints the rest as it is, so this extension rewrites each docstring
before it is parsed: ``Example:`` becomes ``Examples:``, a role becomes the plain code span
(the name or formula, as written), a ``.. math::`` block a code block of its formula, a
lone ``::`` an empty line (its indented block is then Markdown's code block), and an
argument list that wraps (``X, y, family, ...,`` continued on the next line, before its
colon) is joined into one line, as Griffe reads one name list per line.
"""

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:func|class|meth|attr|mod|data|exc|obj|math):`")
_EXAMPLE = re.compile(r"^(\s*)Example:$", re.M)
_MATH_BLOCK = re.compile(r"^( *)\.\. math:: (.*(?:\n\1 +\S.*)*)", re.M)
_LITERAL = re.compile(r"^ *::$", re.M)
_WRAPPED_NAMES = re.compile(r"^(\s+\w+(?:, \w+)*,)\n\s+(?=\w+(?:, \w+)*[:,]\s)", re.M)


class SphinxRoles(griffe.Extension):
    """Rewrite ``Example:`` and Sphinx roles in every docstring of the loaded package."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            text = _EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
            while _WRAPPED_NAMES.search(text):
                text = _WRAPPED_NAMES.sub(r"\1 ", text)
            text = _MATH_BLOCK.sub(_code_block, _LITERAL.sub("", text))
            obj.docstring.value = _ROLE.sub("`", text)


def _code_block(match: re.Match) -> str:
    indent = match.group(1) + "    "
    lines = (line.strip() for line in match.group(2).splitlines())
    return "\n" + "\n".join(indent + line for line in lines) + "\n"
