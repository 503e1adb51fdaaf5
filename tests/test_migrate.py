"""The import rewrite (`modelwire.migrate`): its table, `rewrite_imports`, the README's copy of the
table, and `modelwire migrate`."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from modelwire.migrate import REWRITES, migration_notes, render_markdown_table, rewrite_imports

ROOT = Path(__file__).resolve().parent.parent


def _rw(source: str) -> str:
    return rewrite_imports(textwrap.dedent(source))


@pytest.mark.parametrize("row", REWRITES, ids=lambda row: row.published)
def test_every_target_of_the_table_is_a_module(row: object) -> None:
    importlib.import_module(row.modelwire)  # type: ignore[attr-defined]


def test_the_table_names_each_published_module_once() -> None:
    published = [row.published for row in REWRITES]
    assert len(published) == len(set(published))


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ("from clarifai.client.user import User\n", "from modelwire.clarifai.user import User\n"),
        ("from clarifai.client.input import Input\n", "from modelwire.clarifai.input import Input\n"),
        ("from clarifai.errors import ApiError\n", "from modelwire.clarifai.errors import ApiError\n"),
        ("from clarifai.rest import ClarifaiApp\n", "from modelwire.clarifai.legacy import ClarifaiApp\n"),
        ("from clarifai.rest.client import Image\n", "from modelwire.clarifai.legacy import Image\n"),
        (
            "from clarifai_grpc.grpc.api import resources_pb2\n",
            "from modelwire.clarifai.api import resources_pb2\n",
        ),
        (
            "from clarifai_grpc.grpc.api.status import status_code_pb2\n",
            "from modelwire.clarifai.api.status import status_code_pb2\n",
        ),
        (
            "from decthings_api import DecthingsClient\n",
            "from modelwire.decthings.compat import DecthingsClient\n",
        ),
        (
            "from decthings_api.client_sync import DecthingsClientSync\n",
            "from modelwire.decthings.client_sync import DecthingsClientSync\n",
        ),
        (
            "from decthings_api.tensor import DecthingsTensor\n",
            "from modelwire.decthings.tensor import DecthingsTensor\n",
        ),
        ("from decthings_api.event import RpcEvent\n", "from modelwire.decthings.event import RpcEvent\n"),
        ("from clavata_sdk import ClavataClient\n", "from modelwire.clavata import ClavataClient\n"),
    ],
)
def test_from_imports_are_pointed_at_modelwire(published: str, expected: str) -> None:
    assert rewrite_imports(published) == expected


def test_aliases_and_several_names_are_kept() -> None:
    assert _rw("from clarifai.client.input import Input, Inputs as I\n") == (
        "from modelwire.clarifai.input import Input, Inputs as I\n"
    )
    assert _rw("import clarifai.client.user as u\n") == "import modelwire.clarifai.user as u\n"
    assert (
        _rw("import os, clarifai.errors as e, json\n") == "import os, modelwire.clarifai.errors as e, json\n"
    )


def test_an_undotted_package_import_keeps_its_name() -> None:
    assert _rw("import clavata_sdk\n") == "import modelwire.clavata as clavata_sdk\n"
    assert _rw("import decthings_api\n") == "import modelwire.decthings.compat as decthings_api\n"


def test_a_dotted_plain_import_is_rewritten_and_reported() -> None:
    source = "import clarifai.client.user\nuser = clarifai.client.user.User()\n"
    assert rewrite_imports(source) == "import modelwire.clarifai.user\nuser = clarifai.client.user.User()\n"
    (note,) = migration_notes(source)
    assert note.startswith("line 1: `import clarifai.client.user` became `import modelwire.clarifai.user`")


def test_modules_imported_from_their_package() -> None:
    assert _rw("from clarifai.client import user, app as a, User\n") == (
        "from modelwire.clarifai import user, app as a, User\n"
    )
    assert _rw("from clarifai import rest, errors\n") == (
        "from modelwire.clarifai import legacy as rest; from modelwire.clarifai import errors\n"
    )
    # decthings_api's root maps to the compat module, which has no `client`: split, keeping names.
    assert _rw("from decthings_api import DecthingsTensor, client as c\n") == (
        "from modelwire.decthings.compat import DecthingsTensor; "
        "from modelwire.decthings import client as c\n"
    )


def test_unrelated_imports_and_text_are_untouched() -> None:
    source = textwrap.dedent(
        """\
        from __future__ import annotations
        import os
        from . import clarifai
        from .clavata_sdk import thing
        from clarifai_something import x
        text = "from clarifai.client.user import User"
        # import clavata_sdk
        """
    )
    assert rewrite_imports(source) == source


def test_layout_comments_and_nesting_are_kept() -> None:
    source = textwrap.dedent(
        """\
        def main():
            try:
                from clarifai.rest.client import (  # the 2.x client
                    ClarifaiApp,
                    Image,  # images
                )
            except ImportError:
                import clarifai_grpc.grpc.api \\
                    as api
        print("é"); from clarifai.client.model import Model  # trailing
        """
    )
    assert rewrite_imports(source) == source.replace(
        "clarifai.rest.client", "modelwire.clarifai.legacy"
    ).replace("clarifai_grpc.grpc.api", "modelwire.clarifai.api").replace(
        "clarifai.client.model", "modelwire.clarifai.model"
    )
    ast.parse(rewrite_imports(source))


def test_source_that_does_not_parse_still_has_its_imports_rewritten() -> None:
    python2 = (
        "from clavata_sdk import RefusalReason\ntry:\nclient.evaluate(...)\n"  # Python 2, no indentation
        "print 'x'; import clarifai.rest as r\n"
    )
    assert rewrite_imports(python2) == (
        "from modelwire.clavata import RefusalReason\ntry:\nclient.evaluate(...)\n"
        "print 'x'; import modelwire.clarifai.legacy as r\n"
    )


def test_rewriting_twice_changes_nothing_more() -> None:
    source = "import clavata_sdk\nfrom decthings_api import client\nfrom clarifai.client.user import User\n"
    once = rewrite_imports(source)
    assert rewrite_imports(once) == once


def test_published_imports_without_an_equivalent_are_left_and_reported() -> None:
    source = "from clarifai.client.compute_cluster import ComputeCluster\nimport clarifai.utils.misc\n"
    assert rewrite_imports(source) == source
    notes = migration_notes(source)
    assert [n.split(":")[0] for n in notes] == ["line 1", "line 2"]
    assert all("no modelwire equivalent" in n for n in notes)


def test_the_readme_shows_the_table() -> None:
    """The README's migration table is the one `modelwire.migrate` applies (paste
    `render_markdown_table()` into it when the table changes)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert render_markdown_table() in readme, "README.md: paste modelwire.migrate.render_markdown_table()"


# --- the command ---------------------------------------------------------------------------------


def _migrate(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelwire.cli", "migrate", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_migrate_prints_the_rewritten_file(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text("from clarifai.client.user import User\nimport clarifai.client.app\nprint(User)\n")
    done = _migrate(str(script))
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout
        == "from modelwire.clarifai.user import User\nimport modelwire.clarifai.app\nprint(User)\n"
    )
    assert "line 2: `import clarifai.client.app` became" in done.stderr
    assert script.read_text().startswith("from clarifai.client.user")  # not touched without --in-place


def test_migrate_in_place_rewrites_the_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    first.write_text("from clavata_sdk import ClavataClient\n")
    second.write_text("import json\n")
    done = _migrate("--in-place", str(first), str(second))
    assert done.returncode == 0, done.stderr
    assert first.read_text() == "from modelwire.clavata import ClavataClient\n"
    assert second.read_text() == "import json\n"
    assert f"{first}: imports rewritten" in done.stderr and f"{second}: no imports to rewrite" in done.stderr
    assert done.stdout == ""


def test_migrate_reads_stdin() -> None:
    done = _migrate("-", stdin="from decthings_api.client import DecthingsClient\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "from modelwire.decthings.client import DecthingsClient\n"


def test_migrate_says_which_file_it_cannot_read_and_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text("from clarifai.errors import ApiError\n")
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"\xff\xfe\x00 not utf-8")
    done = _migrate(str(tmp_path / "missing.py"), str(tmp_path), str(binary), str(good))
    assert done.returncode == 1
    assert (
        f"modelwire migrate: cannot read {tmp_path / 'missing.py'}: No such file or directory" in done.stderr
    )
    assert f"modelwire migrate: cannot read {tmp_path}: Is a directory" in done.stderr
    assert f"modelwire migrate: cannot read {binary}:" in done.stderr
    assert "from modelwire.clarifai.errors import ApiError" in done.stdout


def test_migrate_needs_a_file() -> None:
    done = _migrate()
    assert done.returncode == 2
    assert "FILE" in done.stderr
