"""The layer contracts, kept by a walk over every import of the product's packages.

    tui ──> senders ──> store        (and fixtures ──> store)

- `store` imports no UI and no wire: none of `tui`, `senders`, `fixtures`, Textual, click or the clients.
- `senders` never imports Textual nor the app.
- Only `store` talks to the database: no peewee outside it, and no models in the app or the fixtures.
- The command line (`tui/cli/`) and `tui/__init__.py` import no Textual at the top of a module: the app
  loads it when it opens, so `campaigns worker` on a server never does.

- A screen's thread worker (`@work(thread=True)`) reads and posts a message with what it read; it never
  touches the screen: no assignment to `self.…`, no `query_one`/`query`, no `notify`, no `update`.
- No import circle: the modules imported at the top of a module form no cycle (a screen that opens
  another imports it where it opens it, as the command line imports the app).

`python -m tests.layers` prints each violation and exits 1 (`make lint`); `tests/test_layers.py` runs the
same check and shows it fails a deliberate violation. Imports inside functions count too, except where a
rule says "at the top".
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("store", "senders", "tui", "fixtures")


@dataclass(frozen=True)
class Rule:
    """Modules under `where` (a package path, e.g. "tui/cli") may not import `forbidden` (names and their
    submodules); with `top_only`, imports inside a function or a TYPE_CHECKING block are allowed."""

    where: str
    forbidden: tuple[str, ...]
    why: str
    top_only: bool = False


RULES = (
    Rule(
        "store",
        ("tui", "senders", "fixtures", "textual", "rich", "click", "httpx", "aiosmtplib", "uvicorn"),
        "store imports no UI and no wire",
    ),
    Rule(
        "senders", ("tui", "fixtures", "textual", "rich", "click"), "senders never imports the app or Textual"
    ),
    Rule("senders", ("peewee", "playhouse"), "only store talks to the database"),
    Rule(
        "tui",
        ("peewee", "playhouse", "store.models", "sqlite3"),
        "the app reaches data through store's functions",
    ),
    Rule(
        "fixtures",
        ("peewee", "playhouse", "store.models", "tui", "senders", "textual"),
        "the demo center is written through store's functions",
    ),
    Rule(
        "tui/cli", ("textual", "rich"), "the command line loads no Textual until the app opens", top_only=True
    ),
    Rule("tui/__init__.py", ("textual", "rich"), "importing tui loads no Textual", top_only=True),
)


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    imported: str
    rule: Rule

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: imports {self.imported}: {self.rule.why}"


def imports_of(source: str, package: str = "") -> Iterator[tuple[int, str, bool]]:
    """Each imported module: its line, its dotted name and whether it is imported at the top of the module
    (not in a function, nor under `if TYPE_CHECKING:`). A relative import is named from `package`, the
    dotted package the source is in."""
    tree = ast.parse(source)
    deferred: set[int] = set()
    for node in ast.walk(tree):
        lazy_scope = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        lazy_scope = lazy_scope or (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test))
        if lazy_scope:
            deferred.update(id(inner) for inner in ast.walk(node) if inner is not node)
    for node in ast.walk(tree):
        at_top = id(node) not in deferred
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, at_top
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".") if package else []
            base = parts[: len(parts) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            if module:
                yield node.lineno, module, at_top
            for alias in node.names:  # `from store import models` imports store.models
                yield node.lineno, f"{module}.{alias.name}" if module else alias.name, at_top


def _names(imported: str, forbidden: str) -> bool:
    return imported == forbidden or imported.startswith(forbidden + ".")


def violations(root: Path = ROOT) -> list[Violation]:
    found: list[Violation] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            rules = [
                rule for rule in RULES if relative == rule.where or relative.startswith(rule.where + "/")
            ]
            if not rules:
                continue
            seen: set[tuple[int, Rule]] = set()
            source = path.read_text(encoding="utf-8")
            for line, imported, at_top in imports_of(source, _package_of(path, root)):
                for rule in rules:
                    if (rule.top_only and not at_top) or (line, rule) in seen:
                        continue
                    if any(_names(imported, forbidden) for forbidden in rule.forbidden):
                        seen.add((line, rule))
                        found.append(Violation(relative, line, imported, rule))
    return found


def _package_of(path: Path, root: Path) -> str:
    """The dotted package a source file is in (a package's __init__ is in the package itself)."""
    return ".".join(path.relative_to(root).parent.parts)


def _module_of(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_circles(root: Path = ROOT) -> list[list[str]]:
    """Each circle of modules importing one another at their top, as the modules it goes through."""
    paths = {_module_of(path, root): path for package in PACKAGES for path in (root / package).rglob("*.py")}
    graph: dict[str, set[str]] = {module: set() for module in paths}
    for module, path in paths.items():
        for _line, imported, at_top in imports_of(path.read_text(encoding="utf-8"), _package_of(path, root)):
            parts = imported.split(".")
            known = next(
                (".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in paths), None
            )
            if at_top and known and known != module and not module.startswith(known + "."):
                graph[module].add(known)  # a package's own __init__ is loaded before it: not a circle
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the path being walked, 2 done

    def walk(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                circles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                walk(target, [*trail, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    return circles


_SCREEN_TOUCHES = {"query_one", "query", "notify", "update", "refresh", "mount", "remove", "set_class"}


def _is_thread_worker(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(
        isinstance(decorator, ast.Call)
        and ast.unparse(decorator.func) == "work"
        and any(k.arg == "thread" and ast.unparse(k.value) == "True" for k in decorator.keywords)
        for decorator in function.decorator_list
    )


def threads_touching_the_screen(root: Path = ROOT) -> list[str]:
    """Each place in `tui/` where a thread worker writes the screen's state or calls a widget."""
    found: list[str] = []
    for path in sorted((root / "tui").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or not _is_thread_worker(
                function
            ):
                continue
            for node in ast.walk(function):
                targets = node.targets if isinstance(node, ast.Assign) else []
                if isinstance(node, ast.AugAssign | ast.AnnAssign):
                    targets = [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute | ast.Subscript) and ast.unparse(target).startswith(
                        "self."
                    ):
                        found.append(
                            f"{relative}:{node.lineno}: {function.name} writes {ast.unparse(target)}"
                        )
                called = node.func if isinstance(node, ast.Call) else None
                on_screen = isinstance(called, ast.Attribute) and ast.unparse(called.value).startswith("self")
                if on_screen and isinstance(called, ast.Attribute) and called.attr in _SCREEN_TOUCHES:
                    found.append(f"{relative}:{node.lineno}: {function.name} calls {called.attr}")
    return found


def main() -> None:
    found = violations()
    circles = import_circles()
    touching = threads_touching_the_screen()
    for line in touching:
        print(f"thread worker touches the screen: {line}")
    for violation in found:
        print(violation)
    for circle in circles:
        print("import circle: " + " -> ".join(circle))
    bad = len(found) + len(circles) + len(touching)
    print(f"layer contracts: {bad} violation(s)" if bad else "layer contracts: kept, no import circle")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
