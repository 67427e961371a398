"""The follow-up templates' language, and its sandbox. No Django.

Clinic admins edit the templates, so they may only place values the code hands
over, never reach an object, a setting or a file:

- `{{ name }}` puts the value `name` (HTML-escaped in the HTML part, unless the code
  marked it Safe);
- `{% if name %} ... {% else %} ... {% endif %}` keeps a part when `name` is not
  empty (they nest);
- nothing else: any other `{% ... %}`, or a name not offered, is a TemplateError
  when the template is saved, and renders as nothing if one slipped through.

Values are plain strings (or Safe strings built by code): there are no attributes,
filters or calls to follow.
"""

import html
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(r"({{.*?}}|{%.*?%})", re.DOTALL)
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class TemplateError(ValueError):
    """A template the sandbox does not accept, with the reason in plain words."""


class Safe(str):
    """Markup built by code (never by an admin): not escaped in the HTML part."""


@dataclass(frozen=True)
class _Text:
    text: str


@dataclass(frozen=True)
class _Value:
    name: str


@dataclass(frozen=True)
class _If:
    name: str
    then: tuple["_Node", ...]
    otherwise: tuple["_Node", ...]


_Node = _Text | _Value | _If


def template_check(source: str, *, names: Collection[str]) -> None:
    """TemplateError unless `source` is in the language above and uses only
    `names`."""
    for name in _names(_parse(source)):
        if name not in names:
            raise TemplateError(
                f"“{name}” is not a value these messages have. "
                f"Use one of: {', '.join(sorted(names))}."
            )


def template_render(
    source: str, values: Mapping[str, str], *, html_part: bool = False
) -> str:
    """`source` with `values` put in; in the HTML part every value is escaped
    except Safe ones. Names not in `values` render as nothing."""
    return _render(_parse(source), values, html_part=html_part)


# A template is parsed once per process and text (a batch renders it hundreds of
# times); the nodes are immutable.
@lru_cache(maxsize=256)
def _parse(source: str) -> tuple[_Node, ...]:
    stack: list[tuple[str, list[_Node], list[_Node] | None]] = []
    nodes: list[_Node] = []
    for piece in _TOKEN.split(source):
        if not piece:
            continue
        if piece.startswith("{{"):
            name = piece[2:-2].strip()
            if not _NAME.fullmatch(name):
                raise TemplateError(
                    f"“{piece}”: only a value's name goes between {{{{ and }}}}."
                )
            nodes.append(_Value(name))
        elif piece.startswith("{%"):
            words = piece[2:-2].split()
            if len(words) == 2 and words[0] == "if" and _NAME.fullmatch(words[1]):
                stack.append((words[1], nodes, None))
                nodes = []
            elif words == ["else"] and stack and stack[-1][2] is None:
                name, outer, _ = stack.pop()
                stack.append((name, outer, nodes))
                nodes = []
            elif words == ["endif"] and stack:
                name, outer, then = stack.pop()
                node = (
                    _If(name, tuple(then), tuple(nodes))
                    if then is not None
                    else _If(name, tuple(nodes), ())
                )
                outer.append(node)
                nodes = outer
            else:
                raise TemplateError(
                    f"“{piece}”: only {{% if name %}}, {{% else %}} and "
                    "{% endif %} are understood here."
                )
        else:
            nodes.append(_Text(piece))
    if stack:
        raise TemplateError(f"{{% if {stack[-1][0]} %}} has no {{% endif %}}.")
    return tuple(nodes)


def _names(nodes: tuple[_Node, ...]) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, _Value):
            found.add(node.name)
        elif isinstance(node, _If):
            found |= {node.name} | _names(node.then) | _names(node.otherwise)
    return found


def _render(
    nodes: tuple[_Node, ...], values: Mapping[str, str], *, html_part: bool
) -> str:
    out = []
    for node in nodes:
        if isinstance(node, _Text):
            out.append(node.text)
        elif isinstance(node, _Value):
            value = values.get(node.name, "")
            escape = html_part and not isinstance(value, Safe)
            out.append(html.escape(value) if escape else value)
        else:
            chosen = node.then if values.get(node.name) else node.otherwise
            out.append(_render(chosen, values, html_part=html_part))
    return "".join(out)
