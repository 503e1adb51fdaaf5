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


_DECTHINGS = "decthings-api 0.0.4: methods return `(result, error)`, as published"

REWRITES: tuple[Rewrite, ...] = (
    Rewrite(
        "clavata_sdk",
        "modelwire.clavata",
        "clavata-sdk: `ClavataClient` blocks (`async for` over `evaluate` works too); "
        "`AsyncClavataClient` is the awaited one",
    ),
    Rewrite(
        "clarifai.client",
        "modelwire.clarifai",
        "clarifai 12.x: what the package exports "
        "(User, App, Dataset, Inputs, Model, Workflow, Search, Lister)",
    ),
    *(
        Rewrite(f"clarifai.client.{name}", f"modelwire.clarifai.{name}", "clarifai 12.x")
        for name in ("user", "app", "dataset", "input", "model", "workflow")
    ),
    Rewrite(
        "clarifai.client.module",
        "modelwire.clarifai.module",
        "the SDK reference's `Module` (clarifai 12.5.0 has no such module)",
    ),
    Rewrite("clarifai.client.search", "modelwire.clarifai.search", "clarifai 12.x"),
    Rewrite("clarifai.client.lister", "modelwire.clarifai.lister", "clarifai 12.x"),
    Rewrite(
        "clarifai.client.runner",
        "modelwire.clarifai.runner",
        "the SDK reference's remote-inference `Runner` (clarifai 12.5.0's module of that name holds "
        "a compute runner)",
    ),
    Rewrite("clarifai.errors", "modelwire.clarifai.errors", "clarifai 12.x and 2.x"),
    Rewrite(
        "clarifai.rest",
        "modelwire.clarifai.legacy",
        "clarifai 2.x: `ClarifaiApp`, `Image`, geo, search terms",
    ),
    Rewrite("clarifai.rest.client", "modelwire.clarifai.legacy", "clarifai 2.x, as above"),
    Rewrite(
        "clarifai_grpc.grpc.api",
        "modelwire.clarifai.api",
        "clarifai-grpc: `resources_pb2`, `service_pb2`, `service_pb2_grpc`",
    ),
    Rewrite(
        "clarifai_grpc.grpc.api.status",
        "modelwire.clarifai.api.status",
        "clarifai-grpc: `status_pb2`, `status_code_pb2`",
    ),
    Rewrite("decthings_api", "modelwire.decthings.compat", _DECTHINGS),
    Rewrite("decthings_api.client", "modelwire.decthings.client", _DECTHINGS),
    Rewrite("decthings_api.client_sync", "modelwire.decthings.client_sync", _DECTHINGS),
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
        statement_edits, statement_notes = _rewrite_statement(node, _slice(lines, start, end), start, end)
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
    """The module names of one import statement's text with their places in the source: the one
    after `from`, or each one after `import` (without its `as` name)."""

    def place(point: _Point) -> _Point:
        row, col = point
        return (origin[0] + row - 1, origin[1] + col if row == 1 else col)

    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(text).readline)
        if t.type in (tokenize.NAME, tokenize.OP)
    ]
    names: list[tuple[str, _Point, _Point]] = []
    current: list[tokenize.TokenInfo] = []
    wanted = True

    def close() -> None:
        if current:
            names.append(
                ("".join(t.string for t in current), place(current[0].start), place(current[-1].end))
            )
            current.clear()

    for token in tokens[1:]:
        if tokens[0].string == "from" and token.type == tokenize.NAME and token.string == "import":
            break
        if token.string in (",", "as"):
            close()
            wanted = token.string == ","
        elif wanted and (token.type == tokenize.NAME or token.string == "."):
            current.append(token)
    close()
    return names


def _alias(name: str, asname: str | None) -> str:
    return f"{name} as {asname}" if asname else name


def _is_published(module: str) -> bool:
    return module.split(".", 1)[0] in _PUBLISHED_ROOTS


def _rewrite_statement(
    node: ast.Import | ast.ImportFrom, text: str, start: _Point, end: _Point
) -> tuple[list[_Edit], list[str]]:
    """Edits that rewrite one import statement (its module names only, so its layout and
    comments stay), and the notes it earns."""
    if isinstance(node, ast.Import):
        return _rewrite_import(node, _dotted_names(text, start))
    return _rewrite_import_from(node, text, start, end)


def _rewrite_import(
    node: ast.Import, places: list[tuple[str, _Point, _Point]]
) -> tuple[list[_Edit], list[str]]:
    edits: list[_Edit] = []
    notes: list[str] = []
    for alias, (_, start, end) in zip(node.names, places, strict=True):
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


def _rewrite_import_from(
    node: ast.ImportFrom, text: str, origin: _Point, end: _Point
) -> tuple[list[_Edit], list[str]]:
    module = node.module or ""
    if node.level or not module:  # relative imports are the code's own
        return [], []
    target = _TABLE.get(module)
    # `from decthings_api import client`: names that are modules in the table, which the
    # module's own rewrite would not reach (modelwire.decthings.compat has no `client`).
    submodules = {
        a.name
        for a in node.names
        if _TABLE.get(f"{module}.{a.name}", f"{target}.{a.name}") != f"{target}.{a.name}"
    }
    notes: list[str] = []
    if target is None and _is_published(module) and len(submodules) < len(node.names):
        shown = ", ".join(a.name for a in node.names if a.name not in submodules)
        notes.append(f"`from {module} import {shown}` has no modelwire equivalent; left unchanged")
    if not submodules:
        if target is None:
            return [], notes
        _, name_start, name_end = _dotted_names(text, origin)[0]
        return [_Edit(name_start, name_end, target)], notes
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
    return [_Edit(origin, end, "; ".join(statements))], notes
