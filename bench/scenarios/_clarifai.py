"""What both clarifai scenarios (clarifai_upload_list, clarifai_predict) share: the published
clarifai SDK as a contender, in its bench-only venv, as a child process that runs a driver of the
scenario's module (clarifai_sdk_contender, CLARIFAI_SDK_CHILD)."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

from bench.harness.common import ROOT, Unavailable, function_name
from bench.harness.contenders import SubprocessContender
from bench.harness.counting import CallCounter
from bench.harness.plan import ScenarioContext
from bench.harness.samples import Outcome
from bench.harness.venvs import bench_python

CLARIFAI_SDK_VENV = "clarifai-sdk"  # bench-only venv: `make compat` checks clarifai-grpc, not this
CLARIFAI_SDK_REQUIREMENT = "clarifai==12.5.0"


# The published clarifai SDK runs in a child process (its clarifai-grpc descriptors collide with our
# generated modules'): python -I -c CLARIFAI_SDK_CHILD REPO_ROOT CONFIG_JSON, in its venv. The child
# imports the `bench` package from the repo, counts every channel made from then on with a
# CallCounter, and calls the driver the config names (`module:function`, see function_name): a
# function of the scenario's module, `(config, counter) -> SdkRound`, which does the untimed set-up
# (its RPCs are reported on the ready line as `setup_calls`).
# Per `round {args}` line, the SdkRound prepares the round (untimed) and returns its call, which the
# child times with time_sync: so both sides count, time and check alike.
CLARIFAI_SDK_CHILD = r"""
import json, logging, os, platform, sys, traceback
from importlib import metadata

protocol = os.fdopen(os.dup(1), "w")  # the replies only: the SDK's prints and logs go to stderr
os.dup2(2, 1)
sys.stdout = sys.stderr
os.environ["TQDM_DISABLE"] = "1"  # its upload progress bar
os.environ["LOG_LEVEL"] = "ERROR"  # its logger warns per batch, e.g. "Failed to upload 0 inputs"

def reply(obj):
    protocol.write(json.dumps(obj) + "\n")
    protocol.flush()

try:
    root, config_path = sys.argv[1:3]
    sys.path.insert(0, root)  # for the `bench` package (-I leaves the repo out of sys.path)
    from bench.harness.common import resolve
    from bench.harness.contenders import time_sync
    from bench.harness.counting import CallCounter
    with open(config_path) as f:
        config = json.load(f)
    counter = CallCounter()
    counter.patch_channels()  # every channel the SDK makes from now on is counted
    import google.protobuf, grpc
    prepare_round = resolve(config["driver"])(config, counter)
    logging.getLogger("clarifai").setLevel(logging.ERROR)
except BaseException:
    reply({"error": traceback.format_exc()})
    sys.exit(3)

reply({
    "ready": True,
    "clarifai": metadata.version("clarifai"),
    "clarifai_grpc": metadata.version("clarifai-grpc"),
    "grpc": grpc.__version__,
    "protobuf": google.protobuf.__version__,
    "python": platform.python_version(),
    "executable": sys.executable,
    "setup_calls": counter.snapshot()[0],
})
for line in sys.stdin:
    command, _, arguments = line.strip().partition(" ")
    if command != "round":
        break
    try:
        call = prepare_round(json.loads(arguments or "{}"))
        reply(time_sync(call).to_json())
    except BaseException:
        reply({"error": traceback.format_exc()})
        sys.exit(4)
"""


SdkRound = Callable[[dict[str, Any]], Callable[[], Outcome]]  # round args -> the round's timed call
SdkDriver = Callable[[dict[str, Any], CallCounter], SdkRound]


def clarifai_sdk_contender(
    ctx: ScenarioContext,
    driver: SdkDriver,
    config: dict[str, Any],
    *,
    round_args: Callable[[], dict[str, Any]] | None = None,
) -> SubprocessContender:
    """The published clarifai SDK as a contender: its bench-only venv's python running `driver` (a
    module-level function of the scenario's module, looked up by name in the child) with `config` (JSON)."""

    def argv() -> list[str]:
        if ctx.skip_published:
            raise Unavailable("--skip-published")
        python = bench_python(CLARIFAI_SDK_VENV, CLARIFAI_SDK_REQUIREMENT)
        path = ctx.workdir / f"{driver.__name__}.json"
        path.write_text(json.dumps({"driver": function_name(driver), **config}))
        return [str(python), "-I", "-c", CLARIFAI_SDK_CHILD, str(ROOT), str(path)]

    return SubprocessContender(
        "clarifai_sdk", "clarifai 12.5.0 (published SDK)", argv, cwd=ctx.workdir, round_args=round_args
    )


def published_module(module: str) -> Any:
    """A module of the published SDK: importable in its child process only."""
    return importlib.import_module(module)
