"""Every ```python block of README.md and docs/**/*.md runs, as written, against the emulator.

The rules (shared with whoever writes the docs):

* A block fenced ```python is executed; code meant only to be read goes in ```py (or ```bash,
  ```sh, ```text, ...). Any other info string is never run.
* One test case per executed block, with the id `<file>:L<line of its opening fence>` (e.g.
  `README.md:L42`), so a failure names the block; tracebacks point at lines of the Markdown file.
* Each case starts from nothing: a fresh in-process emulator (`Emulator(http_port=0)`: Clavata
  and Clarifai over gRPC, Decthings over HTTP/WebSocket), an empty temporary working directory and
  a fresh namespace. The environment is what `modelwire serve` prints as `export` lines
  (`Emulator.client_env()`: CLAVATA_EMULATOR_HOST, CLAVATA_API_KEY, CLARIFAI_API_BASE,
  CLARIFAI_PAT, CLARIFAI_USER_ID, DECTHINGS_API_KEY, DECTHINGS_HTTP_URL, DECTHINGS_WS_URL), and no
  other CLAVATA_/CLARIFAI_/DECTHINGS_ variable, so code that reads its configuration from the
  environment reaches the emulator unchanged.
* Blocks build on the earlier blocks of their own section (what follows a `#` or `##` heading, up
  to the next one; `###` and deeper stay in it), as a reader does: a case first runs the section's
  earlier ```python blocks in its namespace, then its own. Sections never share anything, so each
  must define what it uses.
* A block may use top-level `await` (as in an async REPL: `python -m asyncio`); all the blocks of a
  case run on one event loop.
* Pages are read when the tests are collected: a docs page added meanwhile is picked up.
"""

from __future__ import annotations

import ast
import asyncio
import gc
import inspect
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any

import pytest

from modelwire.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "readme-key"
_PROVIDER_VARS = ("CLAVATA_", "CLARIFAI_", "DECTHINGS_")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_HEADING = re.compile(r"^ {0,3}(?P<level>#{1,6})(?:[ \t]+|$)")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown page."""

    path: Path
    line: int  # of the opening fence, 1-based
    info: str  # the info string's first word, lower case
    code: str
    section: int  # line of the `#`/`##` heading the block is under (0: before any)

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:L{self.line}"

    @property
    def runs(self) -> bool:
        return self.info == "python"


def parse_blocks(path: Path, text: str) -> list[Block]:
    """The fenced code blocks of `text` (CommonMark fences: ``` or ~~~, any indentation, closed by
    a fence of the same character at least as long; an unclosed fence runs to the end)."""
    blocks: list[Block] = []
    lines = text.splitlines()
    section = 0
    i = 0
    while i < len(lines):
        heading = _HEADING.match(lines[i])
        if heading and len(heading.group("level")) <= 2:
            section = i + 1
        opening = _FENCE.match(lines[i])
        if opening is None or (opening.group("fence")[0] == "`" and "`" in opening.group("info")):
            i += 1
            continue
        fence, indent = opening.group("fence"), len(opening.group("indent").expandtabs(4))
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            line = lines[j].expandtabs(4)
            body.append(line[min(indent, len(line) - len(line.lstrip(" "))) :])
            j += 1
        words = opening.group("info").split()
        info = words[0].lower() if words else ""
        blocks.append(Block(path, i + 1, info, "\n".join(body) + "\n", section))
        i = j + 1
    return blocks


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]


def executed_blocks() -> list[Block]:
    return [b for page in pages() for b in parse_blocks(page, page.read_text(encoding="utf-8")) if b.runs]


BLOCKS = executed_blocks()


def _shifted(code: CodeType, lines: int) -> CodeType:
    """`code` (and the functions in it) moved down by `lines`: line numbers are stored relative to
    `co_firstlineno`, so tracebacks then name lines of the page and show only the block."""
    consts = tuple(_shifted(c, lines) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + lines, co_consts=consts)


def _compile(block: Block) -> CodeType:
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    code = compile(block.code, str(block.path), "exec", flags=flags, dont_inherit=True)
    return _shifted(code, block.line)  # code line 1 is the line after the fence


def _run(block: Block, namespace: dict[str, Any], loop: asyncio.AbstractEventLoop) -> None:
    __tracebackhide__ = True
    code = _compile(block)
    if code.co_flags & inspect.CO_COROUTINE:
        loop.run_until_complete(eval(code, namespace))
    else:
        exec(code, namespace)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Emulator]:
    """A fresh emulator and the environment `modelwire serve` tells users to export for it."""
    for name in list(os.environ):
        if name.startswith(_PROVIDER_VARS):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    with Emulator(api_key=API_KEY, http_port=0) as emulator:
        for name, value in emulator.client_env().items():
            monkeypatch.setenv(name, value)
        saved = dict(os.environ)
        try:
            yield emulator
        finally:  # whatever a snippet set (os.environ.update(emu.client_env()), ...) goes
            os.environ.clear()
            os.environ.update(saved)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_block_runs(block: Block, served: Emulator) -> None:
    same_section = [b for b in BLOCKS if (b.path, b.section) == (block.path, block.section)]
    earlier = [b for b in same_section if b.line < block.line]
    namespace: dict[str, Any] = {"__name__": "__main__"}
    loop = asyncio.new_event_loop()
    try:
        for before in earlier:
            try:
                _run(before, namespace, loop)
            except Exception as exc:
                failed = f"{before.id}, which {block.id} builds on, failed: {type(exc).__name__}: {exc}"
                pytest.fail(failed, pytrace=False)
        _run(block, namespace, loop)
    finally:
        namespace.clear()  # clients the snippets left open are released while the loop still runs
        gc.collect()
        loop.run_until_complete(asyncio.sleep(0.05))
        loop.close()


def test_the_readme_has_executed_blocks_in_each_provider_section() -> None:
    readme = [b for b in BLOCKS if b.path.name == "README.md"]
    text = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    headings = {text[b.section - 1].lstrip("# ").strip() for b in readme if b.section}
    assert {"Clavata", "Clarifai", "Decthings"} <= headings, headings


def test_the_fence_parser(tmp_path: Path) -> None:
    page = ROOT / "docs" / "example.md"
    text = "\n".join(
        [
            "# Title",  # 1
            "```python",  # 2
            "a = 1",
            "```",
            "## Next",  # 5
            "- a list item:",
            "",
            "  ~~~python title",  # 8
            "  if a:",
            "      b = 2",
            "  ~~~",
            "````markdown",  # 12
            "```python",
            "never = run",
            "```",
            "````",
            "```py",  # 17
            "read = only",
            "```",
            "Inline ```python``` is not a fence.",
            "```Python",  # 21
            "c = 3",
        ]
    )
    blocks = parse_blocks(page, text)
    assert [(b.line, b.info, b.section) for b in blocks] == [
        (2, "python", 1),
        (8, "python", 5),
        (12, "markdown", 5),
        (17, "py", 5),
        (21, "python", 5),
    ]
    assert blocks[1].code == "if a:\n    b = 2\n"
    assert blocks[2].code == "```python\nnever = run\n```\n"
    assert blocks[4].code == "c = 3\n"  # an unclosed fence runs to the end of the page
    executed = [b.id for b in blocks if b.runs]
    assert executed == ["docs/example.md:L2", "docs/example.md:L8", "docs/example.md:L21"]
