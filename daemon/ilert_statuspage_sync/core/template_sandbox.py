"""The Jinja2 side of the operator's templates: the bounded sandbox, compiling, rendering.

Templates run in Jinja2's ``SandboxedEnvironment`` (no access to Python
internals from a config file) with ``StrictUndefined`` (a misspelt variable is
an error, never an empty string on a public page). Autoescaping is off: the
output is plain text for Statuspage, not HTML. Jinja's globals are removed, and
``*``/``**``/``%``/``+``/``~`` results, the growing ``str`` methods and output
length are bounded, so a template can neither print a Jinja internal nor hang
or exhaust a pass.

Loaded only by what compiles or renders a template (``core.templates`` imports
it on demand): ``status`` and the other commands that publish nothing never
load Jinja2.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes, pass_context
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

from ilert_statuspage_sync.core.templates import (
    MAX_INT_BITS,
    MAX_RENDERED,
    VARIABLES,
    RenderError,
)
from ilert_statuspage_sync.errors import ConfigError

__all__ = ["MAX_ITERATIONS", "compile_source", "render"]

_T = TypeVar("_T")
_SOURCE_ATTRIBUTES = frozenset({"id", "name"})


@pass_context
def _finalize(_context: Context, value: Any) -> Any:
    """Needs the context, so Jinja cannot fold ``{{ ... }}`` into a constant at compile time."""
    return value


class _BoundedEnvironment(SandboxedEnvironment):
    """The sandbox, with ``*``, ``**``, ``%`` and ``+`` refused when the result would be too
    large, and so is a call of a ``str`` method whose arguments would build a too-large string."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """``left operator right``, or ``SecurityError`` before a too-large result is built."""
        problem = _too_large(operator, left, right)
        if problem:
            raise SecurityError(f"{operator}: result {problem}")
        if operator == "%":
            return left % right
        if operator == "+":
            return left + right
        return left**right if operator == "**" else left * right

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """A ``str`` method that can grow its string, wrapped to check its arguments first.

        The sandbox calls this when a template reads the attribute, so the check holds
        however the method is called afterwards.
        """
        owner, name = getattr(value, "__self__", None), getattr(value, "__name__", "")
        if not isinstance(owner, str) or name not in _GROWING_METHODS:
            return super().wrap_str_format(value)
        method = super().wrap_str_format(value) or value

        def checked(*args: Any, **kwargs: Any) -> str:
            problem = _str_method_too_large(owner, name, args, kwargs)
            if problem:
                raise SecurityError(f"{name}: {problem}")
            return str(method(*args, **kwargs))

        return checked


# str methods whose first argument is the width of the result.
_WIDTH_METHODS = frozenset({"ljust", "rjust", "center", "zfill"})
_GROWING_METHODS = _WIDTH_METHODS | {"expandtabs", "replace", "format", "format_map"}
# A format() field whose width or precision has 6 digits, or comes from a nested field.
_BIG_FIELD = re.compile(r"\{[^{}]*:[^{}]*(?:\d{6}|\{)")


def _str_method_too_large(
    text: str, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> str | None:
    values = [*args, *kwargs.values()]
    if name in _WIDTH_METHODS:
        width = values[0] if values else 0
        return f"width above {MAX_RENDERED}" if _is_int(width) and width > MAX_RENDERED else None
    if name == "expandtabs":
        size = values[0] if values and _is_int(values[0]) else 8
        grows = len(text) + text.count("\t") * max(size, 0) > MAX_RENDERED
        return f"result longer than {MAX_RENDERED}" if grows else None
    if name == "replace" and len(values) >= 2:
        old, new = str(values[0]), str(values[1])
        count = values[2] if len(values) > 2 and _is_int(values[2]) else -1
        hits = text.count(old) if old else len(text) + 1
        hits = hits if count < 0 else min(count, hits)
        grows = len(text) + hits * max(len(new) - len(old), 0) > MAX_RENDERED
        return f"result longer than {MAX_RENDERED}" if grows else None
    if name in ("format", "format_map") and _BIG_FIELD.search(text):
        return "a width or precision from a field or above 99999 is refused"
    return None


def _too_large(operator: str, left: Any, right: Any) -> str | None:
    if operator == "+":
        # Two strings or lists added: a macro adding its argument to itself doubles it per call.
        sized = isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple))
        grows = sized and len(left) + len(right) > MAX_RENDERED
        return f"longer than {MAX_RENDERED}" if grows else None
    if operator == "%":
        # printf widths and precisions ("%.999999999f") are the only way % grows a string.
        if isinstance(left, str) and _BIG_WIDTH.search(left):
            return "built with a width or precision of * or above 99999"
        return None
    both_ints = _is_int(left) and _is_int(right)
    if operator == "**":
        if both_ints and right > 0 and right * (abs(left).bit_length() - 1) > MAX_INT_BITS:
            return f"larger than {MAX_INT_BITS} bits"
        return None
    if both_ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        return f"larger than {MAX_INT_BITS} bits"
    for sequence, count in ((left, right), (right, left)):
        if (
            isinstance(sequence, (str, list, tuple))
            and _is_int(count)
            and len(sequence) * count > MAX_RENDERED
        ):
            return f"longer than {MAX_RENDERED}"
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# optimized=False: no constant folding at compile time (``{{ 7 ** 3000000 }}``
# would be computed while the config loads). No globals: ``range``, ``joiner``,
# ``namespace``, ``cycler``, ``lipsum`` and ``dict`` are not what a status page
# needs, and without them any name the context does not offer is undefined.
_ENV = _BoundedEnvironment(
    undefined=StrictUndefined, autoescape=False, optimized=False, finalize=_finalize
)
_ENV.globals.clear()

# Every {% for %} iterates through this filter (added to the tree at compile),
# so nested loops that print nothing still stop. The budget travels in the
# render context under a key no template can name (it has a space).
MAX_ITERATIONS = 100_000
_BUDGET_KEY = "loop budget"
_BUDGET_FILTER = "_loop_budget"


@pass_context
def _loop_budget(context: Context, iterable: Any) -> Iterator[Any]:
    budget = context.get(_BUDGET_KEY)
    if not isinstance(budget, list):
        raise SecurityError("loops are only counted inside a render")
    for item in iterable:
        budget[0] += 1
        if budget[0] > MAX_ITERATIONS:
            raise SecurityError(f"more than {MAX_ITERATIONS} loop iterations")
        yield item


_ENV.filters[_BUDGET_FILTER] = _loop_budget

# Every ``~`` (string concatenation) goes through this filter (the tree is rewritten at
# compile), so a macro concatenating its argument with itself cannot double it forever.
_CONCAT_FILTER = "_bounded_concat"


def _bounded_concat(parts: Any) -> str:
    texts = [str(part) for part in parts]
    if sum(map(len, texts)) > MAX_RENDERED:
        raise SecurityError(f"~: result longer than {MAX_RENDERED}")
    return "".join(texts)


class _BoundedConcat(NodeTransformer):
    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802 (the visitor's name)
        self.generic_visit(node)
        parts = nodes.List(node.nodes, lineno=node.lineno)
        return nodes.Filter(parts, _CONCAT_FILTER, [], [], None, None, lineno=node.lineno)


_ENV.filters[_CONCAT_FILTER] = _bounded_concat


# Filters whose arguments can build a huge string before the output cap sees it.
def _center(value: Any, width: int = 80) -> str:
    if _is_int(width) and width > MAX_RENDERED:
        raise SecurityError(f"center: width above {MAX_RENDERED}")
    return str(value).center(width)


def _indent(value: Any, width: Any = 4, first: bool = False, blank: bool = False) -> str:
    text = str(value)
    pad = len(width) if isinstance(width, str) else width if _is_int(width) else 0
    if pad * (text.count("\n") + 1) > MAX_RENDERED:
        raise SecurityError(f"indent: result longer than {MAX_RENDERED}")
    return str(_JINJA_INDENT(text, width, first, blank))


def _replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old, new = str(value), str(old), str(new)
    hits = text.count(old) if count is None else min(count, text.count(old))
    if len(text) + hits * max(len(new) - len(old), 0) > MAX_RENDERED:
        raise SecurityError(f"replace: result longer than {MAX_RENDERED}")
    return text.replace(old, new, -1 if count is None else count)


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    # printf widths and precisions ("%999999999d") are the only way % grows a string.
    if _BIG_WIDTH.search(str(value)):
        raise SecurityError("format: a width or precision of * or above 99999 is refused")
    return str(_JINJA_FORMAT(value, *args, **kwargs))


_JINJA_INDENT = _ENV.filters["indent"]
_JINJA_FORMAT = _ENV.filters["format"]
_BIG_WIDTH = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(?:\d*\.)?(?:\*|\d{6})")
_ENV.filters.update(center=_center, indent=_indent, replace=_replace, format=_format)


def compile_source(
    key: str, source: str, where: str, variables: Mapping[str, frozenset[str]] = VARIABLES
) -> Any:
    """Compile ``source`` to a Jinja2 template; a syntax error or unknown variable is a
    ``ConfigError``.

    ``where`` is ``FILE: DOTTED.KEY`` so the message points at the setting;
    ``variables``: the names (and their attributes) the template may use.
    """
    tree = _compiling(where, lambda: _ENV.parse(source))
    bound = _bound(tree)
    for node in tree.find_all(nodes.Name):
        if node.ctx != "load" or node.name in bound:
            continue
        if node.name not in variables:
            known = ", ".join(variables)
            raise ConfigError(
                f"{where}: template line {node.lineno}: "
                f"unknown variable {node.name!r} (known: {known})"
            )
        if node.name == "comment" and key != "comment":
            raise ConfigError(
                f"{where}: template line {node.lineno}: "
                "'comment' is only known in templates.comment"
            )
    for binop in tree.find_all((nodes.Mul, nodes.Pow, nodes.Mod)):
        # Constants are refused at load; anything else is refused at render (call_binop).
        if isinstance(binop.left, nodes.Const) and isinstance(binop.right, nodes.Const):
            problem = _too_large(binop.operator, binop.left.value, binop.right.value)
            if problem:
                raise ConfigError(
                    f"{where}: template line {binop.lineno}: {binop.operator}: result {problem}"
                )
    for getattr_node in tree.find_all(nodes.Getattr):
        problem = _unknown_attribute(getattr_node, variables)
        if problem:
            raise ConfigError(f"{where}: template line {getattr_node.lineno}: {problem}")
    tree = _BoundedConcat().visit(tree)
    for loop in tree.find_all(nodes.For):
        loop.iter = nodes.Filter(loop.iter, _BUDGET_FILTER, [], [], None, None, lineno=loop.lineno)
    return _compiling(
        where, lambda: _ENV.template_class.from_code(_ENV, _ENV.compile(tree), {}, None)
    )


def render(template: Any, context: Mapping[str, Any], name: str) -> str:
    """The text of a compiled template, or ``RenderError`` naming it and what went wrong."""
    try:
        return _bounded_render(template, context)
    except TemplateError as error:
        raise RenderError(f"template {name}: {error}") from None
    except (
        ArithmeticError,
        LookupError,
        TypeError,
        ValueError,
        AttributeError,
        RecursionError,  # a macro or recursive loop that calls itself forever
        MemoryError,  # a macro doubling a string at every call
    ) as error:
        raise RenderError(f"template {name}: {type(error).__name__}: {error}") from None


def _bounded_render(template: Any, context: Mapping[str, Any]) -> str:
    """The output, cut at ``MAX_RENDERED`` characters: rendering stops there.

    A runaway loop ends, and a long vendor text never fails the alert: the
    text is published clipped (the field limits are far below this bound),
    so the alert's later comments and its resolve still reach the page.
    """
    chunks: list[str] = []
    room = MAX_RENDERED
    generator = template.generate({**context, _BUDGET_KEY: [0]})
    try:
        for chunk in generator:
            chunks.append(chunk[:room])
            room -= len(chunk)
            if room <= 0:
                break
    finally:
        generator.close()
    return "".join(chunks)


def _compiling(where: str, step: Callable[[], _T]) -> _T:
    """Parse or compile; any failure (an unknown filter, a huge literal) is a ``ConfigError``."""
    try:
        return step()
    except TemplateSyntaxError as error:
        raise ConfigError(f"{where}: template line {error.lineno}: {error.message}") from None
    except (TemplateError, ArithmeticError, ValueError, RecursionError) as error:
        raise ConfigError(
            f"{where}: template line {_line_of(error)}: {type(error).__name__}: {error}"
        ) from None


def _line_of(error: BaseException) -> str:
    return str(getattr(error, "lineno", None) or "?")


def _bound(tree: nodes.Template) -> frozenset[str]:
    """Names the template binds itself: {% set %} and loop targets, macro parameters, ``loop``.

    This check only keeps typos of context names out; whether a bound name is
    in scope where it is used is decided at render (StrictUndefined, and there
    are no globals), which ``check`` does for every template.
    """
    names = {
        target.name for target in tree.find_all(nodes.Name) if target.ctx in ("store", "param")
    }
    if any(tree.find_all(nodes.For)):
        names.add("loop")
    names.update(macro.name for macro in tree.find_all(nodes.Macro))
    if any(tree.find_all((nodes.Macro, nodes.CallBlock))):
        names.update({"caller", "varargs", "kwargs"})
    return frozenset(names)


def _unknown_attribute(node: nodes.Getattr, variables: Mapping[str, frozenset[str]]) -> str | None:
    base = node.node
    if isinstance(base, nodes.Name) and variables.get(base.name):
        # event and status are plain strings: their string methods stay usable.
        allowed = variables[base.name]
        if node.attr not in allowed:
            offered = ", ".join(sorted(allowed))
            return f"unknown variable '{base.name}.{node.attr}' ({base.name} offers: {offered})"
    if (
        isinstance(base, nodes.Getattr)
        and isinstance(base.node, nodes.Name)
        and base.node.name == "alert"
        and base.attr == "source"
        and node.attr not in _SOURCE_ATTRIBUTES
    ):
        return f"unknown variable 'alert.source.{node.attr}' (alert.source offers: id, name)"
    return None
