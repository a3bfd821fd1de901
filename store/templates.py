"""Bodies, subjects and titles as templates, rendered per recipient by Jinja2's sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from store.errors import TemplateError

if TYPE_CHECKING:
    from jinja2 import Environment, Template

    from store.message_limits import MessageLimits

PLACEHOLDERS = ("first_name", "last_name", "coupon")
SAMPLE_PERSON = ("Maria", "Rossi")  # whom a draft is checked for when it is saved


# What a message template may use: placeholders, conditions, a few filters that cannot grow their input.
# Anything else (arithmetic, calls, attributes, loops) is refused when the draft is saved: with only
# these, rendering takes time and room in proportion to the template and the recipient's names.
SAFE_FILTERS = frozenset(("upper", "lower", "title", "capitalize", "trim", "default", "d", "first", "last"))
SAFE_TESTS = frozenset(
    ("defined", "undefined", "none", "string", "number", "eq", "ne", "equalto", "in", "lower", "upper")
)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Imported on first use: commands that render nothing start faster without Jinja2.
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    environment = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)
    environment.globals.clear()  # no range, lipsum, cycler…: an unknown name renders empty
    return environment


def _refusal(node: Any) -> str | None:
    """What a template node does that a message may not, in a few words; None when it is allowed."""
    from jinja2 import nodes

    allowed = (
        nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.Const, nodes.Compare,
        nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.CondExpr, nodes.Concat, nodes.Getitem,
        nodes.Slice,
    )  # fmt: skip
    if isinstance(node, (nodes.For, nodes.Macro, nodes.CallBlock)):
        return "a loop or macro"
    if isinstance(node, nodes.Name):
        return None if node.ctx == "load" else "an assignment"
    if isinstance(node, nodes.Filter):
        return None if node.name in SAFE_FILTERS else f"the filter |{node.name}"
    if isinstance(node, nodes.Test):
        return None if node.name in SAFE_TESTS else f"the test 'is {node.name}'"
    if isinstance(node, nodes.Const):
        return None if isinstance(node.value, (str, int, bool, type(None))) else "a value"
    if isinstance(node, allowed):
        return None
    if isinstance(node, nodes.BinExpr):
        return "arithmetic"
    if isinstance(node, nodes.Call):
        return "a function call"
    if isinstance(node, nodes.Getattr):
        return "an attribute"
    return f"{type(node).__name__.lower()}"


@lru_cache(maxsize=256)
def compile_template(source: str, what: str = "body") -> Template:
    """The compiled template, or TemplateError naming the line and the fault.

    Only placeholders, `{% if %}` and a few filters are allowed: a message needs no more, and the editor
    renders on every key, so a template must never keep it (or the send) busy or fill the memory.
    """
    from jinja2 import TemplateSyntaxError

    from store.message_limits import MAX_TEMPLATE_CHARACTERS

    if len(source) > MAX_TEMPLATE_CHARACTERS:
        raise TemplateError(f"the {what} is {len(source):,} characters, over {MAX_TEMPLATE_CHARACTERS:,}")
    environment = _environment()
    try:
        tree = environment.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"the {what} has a template error on line {exc.lineno}: {exc.message}") from None
    for node in _walk(tree):
        refused = _refusal(node)
        if refused:
            raise TemplateError(
                f"the {what} uses {refused} on line {node.lineno}: only {{{{ placeholders }}}}, "
                f"{{% if %}} and the filters {', '.join(sorted(SAFE_FILTERS - {'d'}))} are allowed"
            )
    return environment.from_string(source)


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


@lru_cache(maxsize=256)
def _substitution(source: str) -> tuple[str | tuple[str], ...] | None:
    """The template as text and placeholders, when that is all it is (most are): these render
    with a join, 30 times faster than through Jinja2, to the same text."""
    from jinja2 import nodes

    parts: list[str | tuple[str]] = []
    for node in _environment().parse(source).body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append(child.data)
            elif isinstance(child, nodes.Name) and child.ctx == "load" and child.name in PLACEHOLDERS:
                parts.append((child.name,))
            else:
                return None
    return tuple(parts)


@lru_cache(maxsize=256)
def unknown_names(source: str) -> tuple[str, ...]:
    """The names a template reads that are no placeholder (`{{ nome }}`), in order: they render empty,
    which is the contract, and almost always a typing slip worth a warning."""
    from jinja2 import TemplateSyntaxError, nodes

    try:
        tree = _environment().parse(source)
    except TemplateSyntaxError:
        return ()
    found = (node.name for node in _walk(tree) if isinstance(node, nodes.Name) and node.ctx == "load")
    return tuple(dict.fromkeys(name for name in found if name not in PLACEHOLDERS))


def unknown_names_in(*sources: str | None) -> tuple[str, ...]:
    """`unknown_names` of a body and its subject together, each name once."""
    return tuple(dict.fromkeys(name for source in sources if source for name in unknown_names(source)))


def unknown_names_note(*sources: str | None) -> str:
    """One line about the names that are no placeholder in these templates, or nothing."""
    names = unknown_names_in(*sources)
    if not names:
        return ""
    shown = ", ".join(f"{{{{ {name} }}}}" for name in names)
    verb = "is not a placeholder and reads" if len(names) == 1 else "are not placeholders and read"
    return f"{shown} {verb} empty: the placeholders are {', '.join(PLACEHOLDERS)}."


@lru_cache(maxsize=256)
def bare_names(source: str) -> frozenset[str]:
    """The name placeholders printed as they are (`{{ first_name }}`), outside any `{% if %}`: those
    read empty for a recipient without that name ("Ciao ,"), unless the author wrote a fallback."""
    from jinja2 import nodes

    found: set[str] = set()
    for node in _environment().parse(source).body:
        if isinstance(node, nodes.Output):
            found.update(
                child.name
                for child in node.nodes
                if isinstance(child, nodes.Name) and child.name in ("first_name", "last_name")
            )
    return frozenset(found)


def render(source: str, values: dict[str, str], what: str = "body") -> str:
    from store.message_limits import MAX_RENDERED_CHARACTERS

    template = compile_template(source, what)
    parts = _substitution(source)
    if parts is not None and all(name in values for name in PLACEHOLDERS):
        text = "".join(part if isinstance(part, str) else str(values[part[0]]) for part in parts)
    else:
        try:
            text = template.render(values)
        except Exception as exc:  # a user's template may still fail some way (the sandbox's refusals)
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise TemplateError(f"the {what} cannot be rendered: {reason}") from None
    if len(text) > MAX_RENDERED_CHARACTERS:
        raise TemplateError(
            f"the {what} renders {len(text):,} characters, over the limit of {MAX_RENDERED_CHARACTERS:,}"
        )
    return text


class Personaliser:
    """One campaign's body and subject for each recipient; each distinct name is rendered once.

    The send engine, the Send Now forecast and the test send all use it, so the body hashes the one-week
    window compares are the same, and so is the verdict on a message too large for its channel: calling
    it raises TemplateError with the reason this recipient's message may not go. A subject or title is
    always on one line, whatever the recipient's data held.
    """

    def __init__(
        self, body: str, subject: str | None, coupon: str | None, channel: str = "email",
        limits: MessageLimits | None = None,
    ) -> None:  # fmt: skip
        from store.message_limits import MessageLimits

        self.body, self.subject, self.coupon = body, subject, coupon or ""
        self.channel = channel
        self.limits = limits or MessageLimits()
        self._done: dict[tuple[str, str], tuple[str, str | None] | str] = {}

    def __call__(self, first_name: str, last_name: str) -> tuple[str, str | None]:
        found = self._done.get((first_name, last_name))
        if found is None:
            found = self._done[(first_name, last_name)] = self._personalise(first_name, last_name)
        if isinstance(found, str):
            raise TemplateError(found)
        return found

    def _personalise(self, first_name: str, last_name: str) -> tuple[str, str | None] | str:
        from store.message_limits import message_problem

        try:
            body, subject = self.rendered(first_name, last_name)
        except TemplateError as exc:
            return str(exc)
        return message_problem(self.channel, body, subject, self.limits) or (body, subject)

    def rendered(self, first_name: str, last_name: str) -> tuple[str, str | None]:
        """The body and the one-line subject, before the channel's limits are checked (the editor's
        preview shows a message too long, and says so)."""
        from store.message_limits import one_line

        values = {"first_name": first_name, "last_name": last_name, "coupon": self.coupon}
        what = "title" if self.channel == "push" else "subject"
        subject = one_line(render(self.subject, values, what)) if self.subject else None
        return render(self.body, values), subject


@lru_cache(maxsize=64)
def author_texts(source: str, coupon: str | None) -> tuple[str, ...]:
    """What of a message the author wrote: the template's own text, and the template rendered with the
    author's coupon and empty names. Recipients' data is in neither."""
    from jinja2 import nodes

    try:
        compile_template(source)  # refuses what a message may not use
        texts = [
            node.data for node in _walk(_environment().parse(source)) if isinstance(node, nodes.TemplateData)
        ]
        texts.append(render(source, {"first_name": "", "last_name": "", "coupon": coupon or ""}))
    except TemplateError:
        return ()  # a draft that cannot render has no links to trust (and fails at send anyway)
    return tuple(texts)


def check_template(source: str, what: str = "body") -> None:
    """Renders once with sample values, so an error shows while editing, never at send time."""
    render(source, {"first_name": SAMPLE_PERSON[0], "last_name": SAMPLE_PERSON[1], "coupon": "COUPON"}, what)
