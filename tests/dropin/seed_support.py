"""Machinery of test_seed_examples: read the copied seed examples, turn one into the script the
test runs (placeholders, context, repairs, the import rewrite), and a loopback web server that
stands in for the URLs the examples name."""

from __future__ import annotations

import re
import textwrap
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any

from modelwire.migrate import rewrite_imports

EXAMPLES_DIR = Path(__file__).resolve().parent / "seed_examples"
HEADER_END = "# ---"


@dataclass(frozen=True)
class Example:
    """One copied example: its file's name, where the seed has it, and its verbatim text."""

    name: str  # file stem: <seed>_<nn>_<slug>
    path: Path
    seed_file: str
    seed_lines: list[int]
    body: str

    @property
    def seed(self) -> str:
        return self.name[:3]

    @property
    def is_doctest(self) -> bool:
        return self.body.startswith(">>>")

    @property
    def is_shell(self) -> bool:
        return self.path.suffix == ".sh"


def _line_numbers(spec: str) -> list[int]:
    numbers: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        numbers += range(int(first), int(last or first) + 1)
    return numbers


def load_examples() -> dict[str, Example]:
    found: dict[str, Example] = {}
    for path in sorted(EXAMPLES_DIR.iterdir()):
        if path.suffix not in (".py", ".sh"):
            continue
        text = path.read_text(encoding="utf-8")
        header, sep, body = text.partition(HEADER_END + "\n")
        match = re.match(r"# seed: (\S+) lines? (\S+)\n", header)
        assert sep and match, (
            f"{path.name}: expected a '# seed: FILE lines N-M' header ending in {HEADER_END!r}"
        )
        found[path.stem] = Example(path.stem, path, match.group(1), _line_numbers(match.group(2)), body)
    return found


# --- turning an example into the script that runs ------------------------------------------------


@dataclass(frozen=True)
class Sub:
    """Fill a placeholder the doc leaves for the reader: `old` -> `new` (`${name}` in `new` is a
    value of the running emulator or of the example's setup). `count` limits the replacements
    (from the left); each Sub must match, so the table cannot go stale."""

    old: str
    new: str
    count: int = -1


@dataclass(frozen=True)
class Indent:
    """Repair: indent lines `first`..`last` (1-based, of the example) by `by` spaces."""

    first: int
    last: int
    by: int = 4


@dataclass(frozen=True)
class Append:
    """Repair: add `text` after the example."""

    text: str


Repair = Sub | Indent | Append


def fill(text: str, subs: tuple[Sub, ...], values: Mapping[str, str], where: str) -> str:
    for sub in subs:
        assert sub.old in text, f"{where}: placeholder {sub.old!r} is not in the example"
        text = text.replace(sub.old, Template(sub.new).substitute(values), sub.count)
    return text


def fill_present(text: str, fills: tuple[Sub, ...], values: Mapping[str, str]) -> str:
    """Like `fill`, for placeholders shared by many examples: each applies where it occurs."""
    for sub in fills:
        text = text.replace(sub.old, Template(sub.new).substitute(values), sub.count)
    return text


def repair(text: str, repairs: tuple[Repair, ...], values: Mapping[str, str], where: str) -> str:
    for step in repairs:
        if isinstance(step, Sub):
            text = fill(text, (step,), values, where)
            continue
        if isinstance(step, Append):
            text = text.rstrip("\n") + "\n" + Template(step.text).substitute(values)
            continue
        lines = text.split("\n")
        for index in range(step.first - 1, step.last):
            lines[index] = " " * step.by + lines[index]
        text = "\n".join(lines)
    return text


def doctest_source(body: str) -> str:
    """The code of a doctest: every line without its `>>> ` prompt (the 2.x reference marks
    continuation lines with `>>>` too)."""
    return "\n".join(line[4:] if line.startswith(">>> ") else line[3:] for line in body.split("\n"))


@dataclass(frozen=True)
class Script:
    """What runs: `source` (a Python file, or a shell script for `.sh` examples)."""

    source: str
    shell: bool = False


@dataclass
class Plan:
    """How one example runs: placeholders, the context the doc established, and checks."""

    subs: tuple[Sub, ...] = ()
    fills: tuple[Sub, ...] = ()  # placeholders of the provider's examples, where they occur
    context: str = ""  # code before the example (the session a fragment continues); rewritten too
    wrap_async: bool = False  # a fragment with top-level `async for`/`await`: run in asyncio.run
    check: str = ""  # code after the example (ours, not the doc's): asserts on what it made
    expect: tuple[str, ...] = ()  # text the run must print
    setup: tuple[Callable[[Any], None], ...] = ()  # state the doc assumes, made with modelwire's SDK
    verify: tuple[Callable[[Any], None], ...] = ()  # checks of the emulator's state afterwards
    env_drop: tuple[str, ...] = ()  # variables the example must do without (e.g. the key it sets)
    app: bool = True  # Clarifai: run in an app of its own (made and deleted by the test)


def build_script(
    example: Example,
    plan: Plan,
    values: Mapping[str, str],
    repairs: tuple[Repair, ...] = (),
) -> str:
    """The example's text with its placeholders filled (and `repairs` applied), after `context`,
    optionally inside `asyncio.run`, through `rewrite_imports`, followed by the check code."""
    where = example.name
    code = doctest_source(example.body) if example.is_doctest else example.body
    code = fill(code, plan.subs, values, where)
    code = repair(code, repairs, values, where)
    code = fill_present(code, plan.fills, values)
    if plan.wrap_async:
        code = (
            "import asyncio\n\n\nasync def __example():\n"
            + textwrap.indent(code, "    ", lambda line: True)
            + "\n\nasyncio.run(__example())\n"
        )
    if example.is_shell:
        return code
    context = Template(textwrap.dedent(plan.context)).substitute(values) if plan.context else ""
    script = rewrite_imports(context + code)
    if plan.check:
        checks = Template(textwrap.dedent(plan.check)).substitute(values)
        script += "\n\n# --- checks of test_seed_examples (not part of the example) ---\n" + checks
    return script


# --- a loopback web server for the examples' URLs --------------------------------------------------


class WebServer:
    """Serves `files` (path -> bytes) on 127.0.0.1 and records the POSTs it receives (webhooks)."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = dict(files)
        self.posts: list[tuple[str, dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = server.files.get(self.path.split("?", 1)[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = self.rfile.read(length)
                with server._lock:
                    server.posts.append((self.path, dict(self.headers.items()), payload))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def posts_to(self, path: str) -> list[tuple[str, dict[str, str], bytes]]:
        with self._lock:
            return [post for post in self.posts if post[0] == path]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
