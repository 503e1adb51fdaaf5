"""The import rewrite that moves code written for a published client onto modelwire.

    from clarifai.client.user import User          # published clarifai
    from modelwire.clarifai.user import User       # after rewrite_imports()

`REWRITES` is the one table of it: the README's migration table is rendered from it
(`render_markdown_table`), `modelwire migrate FILE...` applies it, and the seed examples' test runs
the providers' documented code through it. Only import statements change; the rest of the code is
left byte for byte. A module path is rewritten when it is in the table exactly (`import M`,
`import M as A`, `from M import a, b`), and `from P import m` when `P.m` is (a module imported from
its package). `import pkg` of an undotted published package becomes `import <target> as pkg`, so
`pkg.Name` keeps working; a dotted one (`import clarifai.client.user`) cannot keep its binding,
which `migration_notes` reports, as it reports imports of a published package with no modelwire
equivalent (left unchanged).
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass

__all__ = [
    "REWRITES",
    "Rewrite",
    "migration_notes",
    "render_markdown_table",
    "rewrite_imports",
]


@dataclass(frozen=True)
class Rewrite:
    """One row of the table: the published module, modelwire's module, and what to know."""

    published: str
    modelwire: str
    note: str = ""


_CLARIFAI_MODULES = ("user", "app", "dataset", "input", "model", "workflow", "module", "search", "lister")

REWRITES: tuple[Rewrite, ...] = (
    Rewrite("clavata_sdk", "modelwire.clavata", "clavata-sdk; `ClavataClient` is synchronous, see below"),
    Rewrite(
        "clarifai.client",
        "modelwire.clarifai",
        "clarifai 12.x; the package's re-exports of the seed-documented classes",
    ),
    *(
        Rewrite(f"clarifai.client.{name}", f"modelwire.clarifai.{name}", "clarifai 12.x")
        for name in _CLARIFAI_MODULES
    ),
    Rewrite(
        "clarifai.client.runner",
        "modelwire.clarifai.runner",
        "the documented remote-inference `Runner` (12.5.0's module of that name holds a compute runner)",
    ),
    Rewrite("clarifai.errors", "modelwire.clarifai.errors", "clarifai 12.x and 2.x"),
    Rewrite("clarifai.rest", "modelwire.clarifai.legacy", "clarifai 2.x `ClarifaiApp`"),
    Rewrite("clarifai.rest.client", "modelwire.clarifai.legacy", "clarifai 2.x `ClarifaiApp`"),
    Rewrite("clarifai_grpc.grpc.api", "modelwire.clarifai.api", "clarifai-grpc: `resources_pb2`, `service_pb2`"),
    Rewrite(
        "clarifai_grpc.grpc.api.status",
        "modelwire.clarifai.api.status",
        "clarifai-grpc: `status_pb2`, `status_code_pb2`",
    ),
    Rewrite(
        "decthings_api",
        "modelwire.decthings.compat",
        "decthings-api 0.0.4: methods return `(result, error)`",
    ),
    Rewrite("decthings_api.client", "modelwire.decthings.client", "decthings-api 0.0.4, as above"),
    Rewrite("decthings_api.client_sync", "modelwire.decthings.client_sync", "decthings-api 0.0.4, as above"),
    Rewrite("decthings_api.tensor", "modelwire.decthings.tensor", "decthings-api 0.0.4"),
    Rewrite("decthings_api.event", "modelwire.decthings.event", "decthings-api 0.0.4"),
)

_TABLE: dict[str, str] = {row.published: row.modelwire for row in REWRITES}
# Top-level packages of the published clients: their imports without a table entry are reported.
_PUBLISHED_ROOTS = frozenset({"clavata_sdk", "clarifai", "clarifai_grpc", "decthings_api"})


def render_markdown_table() -> str:
    """The table as README markdown (the README's copy is checked against this)."""
    lines = ["| Published import | modelwire import | Notes |", "|---|---|---|"]
    lines += [f"| `{row.published}` | `{row.modelwire}` | {row.note} |" for row in REWRITES]
    return "\n".join(lines) + "\n"


def rewrite_imports(source: str) -> str:
    """`source` with every import of a published module in `REWRITES` pointed at modelwire.

    Pure: no module is imported. Source that does not parse (Python 2, a doc fragment) still gets
    the import statements that begin a line (or follow a `;`) rewritten."""
    return _rewrite(source)[0]


def migration_notes(source: str) -> list[str]:
    """What a reader of the rewritten `source` should check: `line N: ...` for each dotted plain
    import whose binding changed, and each published import left unchanged for want of an entry."""
    return _rewrite(source)[1]


# --- how ---------------------------------------------------------------------------------------

_Point = tuple[int, int]  # (1-based line, 0-based column in characters)


@dataclass(frozen=True)
class _Edit:
    start: _Point
    end: _Point
    text: str


def _rewrite(source: str) -> tuple[str, list[str]]:
    lines = source.splitlines(keepends=True)
    edits: list[_Edit] = []
    notes: list[str] = []
    for node, start, end in _import_statements(source, lines):
        statement_edits, statement_notes = _rewrite_statement(node, _slice(lines, start, end), start)
        edits += statement_edits
        notes += [f"line {start[0]}: {note}" for note in statement_notes]
    if not edits:
        return source, notes
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    out = source
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        begin = offsets[edit.start[0] - 1] + edit.start[1]
        out = out[:begin] + edit.text + out[offsets[edit.end[0] - 1] + edit.end[1] :]
    return out, notes


def _import_statements(
    source: str, lines: list[str]
) -> list[tuple[ast.Import | ast.ImportFrom, _Point, _Point]]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return _import_statements_by_tokens(source, lines)
    found: list[tuple[ast.Import | ast.ImportFrom, _Point, _Point]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and node.end_lineno is not None:
            start = (node.lineno, _char_column(lines, node.lineno, node.col_offset))
            end = (node.end_lineno, _char_column(lines, node.end_lineno, node.end_col_offset or 0))
            found.append((node, start, end))
    return found


def _char_column(lines: list[str], lineno: int, byte_column: int) -> int:
    """ast columns count UTF-8 bytes; edits count characters."""
    return len(lines[lineno - 1].encode("utf-8")[:byte_column].decode("utf-8", errors="replace"))


def _import_statements_by_tokens(
    source: str, lines: list[str]
) -> list[tuple[ast.Import | ast.ImportFrom, _Point, _Point]]:
    """Import statements of source that does not parse: each one that starts a logical line or
    follows a `;`, parsed on its own."""
    found: list[tuple[ast.Import | ast.ImportFrom, _Point, _Point]] = []
    statement: list[tokenize.TokenInfo] = []

    def flush() -> None:
        if statement and statement[0].type == tokenize.NAME and statement[0].string in ("import", "from"):
            start, end = statement[0].start, statement[-1].end
            try:
                parsed = ast.parse(_slice(lines, start, end)).body
            except SyntaxError:
                parsed = []
            if len(parsed) == 1 and isinstance(parsed[0], (ast.Import, ast.ImportFrom)):
                found.append((parsed[0], start, end))
        statement.clear()

    skip = {tokenize.INDENT, tokenize.DEDENT, tokenize.NL, tokenize.COMMENT, tokenize.ENCODING}
    depth = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.OP and token.string in ("(", "[", "{"):
                depth += 1
            elif token.type == tokenize.OP and token.string in (")", "]", "}"):
                depth = max(depth - 1, 0)
            if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or (
                token.type == tokenize.OP and token.string == ";" and depth == 0
            ):
                flush()
            elif token.type not in skip:
                statement.append(token)
    except (tokenize.TokenError, SyntaxError):  # an unterminated string or bracket: keep what was found
        pass
    return found


def _slice(lines: list[str], start: _Point, end: _Point) -> str:
    if start[0] == end[0]:
        return lines[start[0] - 1][start[1] : end[1]]
    middle = "".join(lines[start[0] : end[0] - 1])
    return lines[start[0] - 1][start[1] :] + middle + lines[end[0] - 1][: end[1]]


def _dotted_names(text: str, origin: _Point) -> list[tuple[str, _Point, _Point]]:
    """The dotted module names of an import statement's text, each with its place in the source:
    after `from`, or each one after `import` (up to its `as`)."""
    names: list[tuple[str, _Point, _Point]] = []
    current: list[tokenize.TokenInfo] = []
    collecting = False

    def place(point: _Point) -> _Point:
        row, col = point
        return (origin[0] + row - 1, origin[1] + col if row == 1 else col)

    def close() -> None:
        if current:
            dotted = "".join(t.string for t in current)
            names.append((dotted, place(current[0].start), place(current[-1].end)))
        current.clear()

    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.NAME and token.string in ("from", "import") and not current:
            collecting = token.string == "from" or not names or text.lstrip().startswith("import")
            if token.string == "import" and text.lstrip().startswith("from"):
                break  # the names after `from M import` are not modules of the statement
            continue
        if collecting and (token.type == tokenize.NAME and token.string != "as" or token.string == "."):
            current.append(token)
            continue
        close()
        collecting = token.type == tokenize.OP and token.string == ","
    close()
    return names


def _alias(name: str, asname: str | None) -> str:
    return f"{name} as {asname}" if asname else name


def _is_published(module: str) -> bool:
    return module.split(".", 1)[0] in _PUBLISHED_ROOTS


def _rewrite_statement(
    node: ast.Import | ast.ImportFrom, text: str, origin: _Point
) -> tuple[list[_Edit], list[str]]:
    """Edits that rewrite one import statement (the module names only, so its layout and
    comments stay), and the notes it earns."""
    if isinstance(node, ast.Import):
        return _rewrite_import(node, _dotted_names(text, origin))
    return _rewrite_import_from(node, text, origin)


def _rewrite_import(
    node: ast.Import, places: list[tuple[str, _Point, _Point]]
) -> tuple[list[_Edit], list[str]]:
    edits: list[_Edit] = []
    notes: list[str] = []
    for alias, (_, start, end) in zip(node.names, places):
        target = _TABLE.get(alias.name)
        if target is None:
            if _is_published(alias.name):
                notes.append(f"`import {alias.name}` has no modelwire equivalent; left unchanged")
            continue
        if not alias.asname and "." not in alias.name:  # keep the name the code uses: clavata_sdk
            edits.append(_Edit(start, end, f"{target} as {alias.name}"))
            continue
        edits.append(_Edit(start, end, target))
        if not alias.asname:
            notes.append(
                f"`import {alias.name}` became `import {target}`: references to `{alias.name}.<name>` "
                f"must become `{target}.<name>` (or import with `as`)"
            )
    return edits, notes


def _rewrite_import_from(node: ast.ImportFrom, text: str, origin: _Point) -> tuple[list[_Edit], list[str]]:
    module = node.module or ""
    if node.level or not module:  # relative imports are the code's own
        return [], []
    target = _TABLE.get(module)
    # `from decthings_api import client`: names that are themselves modules in the table.
    submodules = {a.name for a in node.names if f"{module}.{a.name}" in _TABLE}
    notes: list[str] = []
    if target is None and _is_published(module) and len(submodules) < len(node.names):
        shown = ", ".join(a.name for a in node.names if a.name not in submodules)
        notes.append(f"`from {module} import {shown}` has no modelwire equivalent; left unchanged")
    if not submodules:
        if target is None:
            return [], notes
        _, start, end = _dotted_names(text, origin)[0]
        return [_Edit(start, end, target)], notes
    # Split: one statement per module name, one for the rest (layout is not kept here).
    statements: list[str] = []
    rest = [a for a in node.names if a.name not in submodules]
    if rest:
        names = ", ".join(_alias(a.name, a.asname) for a in rest)
        statements.append(f"from {target or module} import {names}")
    for alias in node.names:
        if alias.name in submodules:
            parent, _, leaf = _TABLE[f"{module}.{alias.name}"].rpartition(".")
            asname = alias.asname or (alias.name if leaf != alias.name else None)
            statements.append(f"from {parent} import {_alias(leaf, asname)}")
    end_line = origin[0] + text.count("\n")
    end_col = len(text.rsplit("\n", 1)[-1]) + (origin[1] if "\n" not in text else 0)
    return [_Edit(origin, (end_line, end_col), "; ".join(statements))], notes
