"""clarifai_upload_list: clarifai, upload text inputs in bulk, then list them back.

Both SDKs against the same emulator, each round into a fresh app: build N text inputs and upload
them with the SDK's bulk path (which waits for the add-jobs), then list the app's inputs back twice:
with the SDK's default page size, and 1000 per page. Every listing must return exactly the ids
uploaded. RPCs are counted on the client side by the same interceptor in both processes"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

from bench.harness.common import BenchError, log
from bench.harness.contenders import SyncContender, SyncSession
from bench.harness.counting import CallCounter, PhaseClock
from bench.harness.plan import CallBudget, Comparison, Plan, Scenario, ScenarioContext
from bench.harness.samples import Outcome
from bench.scenarios._clarifai import (
    CLARIFAI_SDK_REQUIREMENT,
    SdkRound,
    clarifai_sdk_contender,
    published_module,
)
from bench.scenarios._clavata import clavata_texts

CLARIFAI_ITEMS = 10_000
CLARIFAI_QUICK_ITEMS = 300  # three upload batches (128, 128, 44) and three default pages
CLARIFAI_USER = "demo"  # the emulator's user; its API key is this user's PAT
CLARIFAI_BATCH = 128  # inputs per PostInputs in both bulk uploads (the API's and both SDKs' maximum)
CLARIFAI_PAGE = 1000  # page size of the per_page listing: the API's maximum, so the fewest calls
CLARIFAI_OUR_DEFAULT_PAGE = 128  # modelwire's list_inputs() without per_page
CLARIFAI_METHODS = ("PostInputs", "GetInputsAddJob", "ListInputs", "DeleteInputs")
UPLOAD, LIST_DEFAULT, LIST_PAGED = "upload", "list_default", f"list_{CLARIFAI_PAGE}"


def clarifai_items(n: int) -> list[tuple[str, str]]:
    """n (input id, text) pairs, deterministic (the texts are clavata_texts(n))."""
    return [(f"bench-{i:05d}", text) for i, text in enumerate(clavata_texts(n))]


def clarifai_round(
    clock: PhaseClock,
    expected: Sequence[str],
    upload: Callable[[], None],
    list_default: Callable[[], Sequence[str]],
    list_paged: Callable[[], Sequence[str]],
) -> Outcome:
    """One round of clarifai_upload_list, the same for both SDKs (the child runs it too): `upload`
    builds the inputs and uploads them; each listing returns the ids it listed, which are then
    checked (untimed) against `expected`."""
    with clock.phase(UPLOAD):
        upload()
    listed = 0
    for name, listing in ((LIST_DEFAULT, list_default), (LIST_PAGED, list_paged)):
        with clock.phase(name):
            ids = listing()
        listed = check_listing(name, ids, expected)
    return clock.outcome(listed, listed)


def check_listing(what: str, listed: Sequence[str], expected: Sequence[str]) -> int:
    """The number of ids listed, which must be exactly `expected` (any order); BenchError otherwise."""
    want, got = set(expected), set(listed)
    if len(listed) == len(expected) and got == want:
        return len(listed)
    missing, unexpected = len(want - got), len(got - want)
    duplicates = len(listed) - len(got)
    raise BenchError(
        f"{what}: listed {len(listed)} inputs for {len(expected)} uploaded "
        f"({missing} missing, {unexpected} unexpected, {duplicates} duplicated)"
    )


def clarifai_sdk_upload_list(config: dict[str, Any], counter: CallCounter) -> SdkRound:
    """clarifai_upload_list's published side (in the child): per round an Inputs of that round's app,
    what its users write; _bulk_upload as Dataset.upload_from_csv uses it."""
    inputs_class = published_module("clarifai.client.input").Inputs
    items, page, batch = config["items"], config["page"], config["batch"]
    expected = [input_id for input_id, _ in items]

    def prepare(args: dict[str, Any]) -> Callable[[], Outcome]:
        inputs = inputs_class(
            user_id=config["user_id"], app_id=args["app_id"], base_url=config["base_url"], pat=config["pat"]
        )

        def upload() -> None:
            inputs._bulk_upload(
                [inputs.get_text_input(input_id, text) for input_id, text in items], batch_size=batch
            )

        def list_default() -> list[str]:
            return [i.id for i in inputs.list_inputs()]

        def list_paged() -> list[str]:
            # list_inputs(per_page=...) fetches that one page only: page through as a user must
            ids: list[str] = []
            page_no = 1
            while True:
                got = [i.id for i in inputs.list_inputs(page_no=page_no, per_page=page)]
                ids += got
                if len(got) < page:
                    return ids
                page_no += 1

        return lambda: clarifai_round(
            PhaseClock(counter, config["server_pid"]), expected, upload, list_default, list_paged
        )

    return prepare


class FreshApps:
    """A new app for each round of each contender (the contender's previous one is deleted), made
    before the round, untimed, by a client of its own whose calls are not counted."""

    def __init__(self, user: Any, prefix: str) -> None:
        self._user = user
        self._prefix = prefix
        self._made = 0
        self._current: dict[str, str] = {}

    def fresh(self, key: str) -> str:
        self.drop(key)
        self._made += 1
        app_id = f"{self._prefix}-{key.replace('_', '-')}-{self._made}"
        self._user.create_app(app_id).close()
        self._current[key] = app_id
        return app_id

    def drop(self, key: str) -> None:
        app_id = self._current.pop(key, None)
        if app_id is not None:
            try:
                self._user.delete_app(app_id)
            except Exception as exc:  # the emulator keeps it: only memory is lost
                log(f"could not delete app {app_id}: {exc}")

    def close(self) -> None:
        for key in list(self._current):
            self.drop(key)


def clarifai_upload_list(ctx: ScenarioContext) -> Plan:
    """modelwire's Inputs against the published clarifai SDK (its own venv, a child process)."""
    from modelwire.clarifai import Inputs, User

    n = ctx.items or (CLARIFAI_QUICK_ITEMS if ctx.quick else CLARIFAI_ITEMS)
    items = clarifai_items(n)
    expected = [input_id for input_id, _ in items]
    server = ctx.emulator("--user-id", CLARIFAI_USER)
    base_url = f"http://{server.target}"
    admin = User(user_id=CLARIFAI_USER, base_url=base_url, pat=server.api_key)
    ctx.stack.callback(admin.close)
    apps = FreshApps(admin, f"bench-{os.getpid()}")
    ctx.stack.callback(apps.close)  # runs before admin.close and the emulator's stop

    def open_modelwire() -> SyncSession:
        counter = CallCounter()
        with counter.counting_channels():
            user = User(user_id=CLARIFAI_USER, base_url=base_url, pat=server.api_key)
        current: list[Inputs] = []

        def prepare() -> None:
            for old in current:
                old.close()
            app = user.app(apps.fresh("modelwire"))  # one GetApp, outside the phases
            current[:] = [app.inputs()]
            app.close()

        def call() -> Outcome:
            (inputs,) = current

            def upload() -> None:
                built = [inputs.get_text_input(input_id, text) for input_id, text in items]
                summary = inputs.upload_inputs_bulk(built, show_progress=False)
                if summary.failed:
                    raise BenchError(f"modelwire: {len(summary.failed)} inputs failed to upload: {summary}")

            return clarifai_round(
                PhaseClock(counter, server.pid),
                expected,
                upload,
                lambda: [i.id for i in inputs.list_inputs()],
                lambda: [i.id for i in inputs.list_inputs(per_page=CLARIFAI_PAGE)],
            )

        def close() -> None:
            for old in current:
                old.close()
            user.close()
            apps.drop("modelwire")

        return SyncSession(call, close, prepare)

    published_config = {
        "base_url": base_url,
        "user_id": CLARIFAI_USER,
        "pat": server.api_key,
        "server_pid": server.pid,
        "items": items,
        "page": CLARIFAI_PAGE,
        "batch": CLARIFAI_BATCH,
    }

    ours, theirs = "modelwire", "clarifai_sdk"
    default_pages, paged_pages = n // CLARIFAI_OUR_DEFAULT_PAGE + 1, n // CLARIFAI_PAGE + 1
    no_total = "a full last page costs one more call: ListInputs has no total"
    return Plan(
        description=(
            f"{n} text inputs uploaded into a fresh app per round and contender, then listed back twice; "
            f"one emulator. upload = build the inputs + the SDK's bulk upload, which waits for the "
            f"add-jobs (modelwire: upload_inputs_bulk(show_progress=False); clarifai: "
            f"Inputs._bulk_upload(batch_size={CLARIFAI_BATCH}), as Dataset.upload_from_csv does). "
            f"{LIST_DEFAULT} = list(list_inputs()), each SDK's default page size (modelwire "
            f"{CLARIFAI_OUR_DEFAULT_PAGE}, clarifai: per_page unset, the server's default). {LIST_PAGED} = "
            f"{CLARIFAI_PAGE} per page (modelwire: list_inputs(per_page={CLARIFAI_PAGE}); clarifai: its "
            "list_inputs(per_page=...) returns one page, so "
            f"list_inputs(page_no=p, per_page={CLARIFAI_PAGE}) for p = 1, 2, ... until a short page). "
            "Every listing must return exactly the uploaded ids. "
            "RPCs counted client-side by the same gRPC interceptor in both processes. Throughput ratio "
            "= clarifai's median time / modelwire's."
        ),
        messages=n,
        contenders=[
            SyncContender(ours, "modelwire Inputs", open_modelwire),
            clarifai_sdk_contender(
                ctx,
                clarifai_sdk_upload_list,
                published_config,
                round_args=lambda: {"app_id": apps.fresh(theirs)},
            ),
        ],
        comparisons=[
            Comparison(ours, theirs, 3.0, phase=UPLOAD),
            Comparison(
                ours,
                theirs,
                2.0,
                phase=LIST_PAGED,
                denominator_phase=LIST_DEFAULT,
                title=f"list as used: modelwire per_page={CLARIFAI_PAGE} / clarifai list_inputs()",
            ),
            Comparison(ours, theirs, 2.0, phase=LIST_DEFAULT),
            Comparison(ours, theirs, 2.0, phase=LIST_PAGED),
        ],
        server=server,
        expected_check=n,
        unit="inputs/s",
        item="input",
        details={
            "items": n,
            "user_id": CLARIFAI_USER,
            "batch": CLARIFAI_BATCH,
            "page": CLARIFAI_PAGE,
            "modelwire_default_page": CLARIFAI_OUR_DEFAULT_PAGE,
            "published": CLARIFAI_SDK_REQUIREMENT,
            "rpc_counts": "client-side, by a gRPC interceptor (CallCounter) in each process",
        },
        call_methods=CLARIFAI_METHODS,
        budgets=[
            CallBudget(
                ours, UPLOAD, "PostInputs", math.ceil(n / CLARIFAI_BATCH), f"one per {CLARIFAI_BATCH}"
            ),
            CallBudget(ours, UPLOAD, "ListInputs", 0, "no re-listing when the add-jobs report success"),
            CallBudget(ours, UPLOAD, "DeleteInputs", 0, "nothing to delete when every input succeeded"),
            CallBudget(
                ours,
                LIST_DEFAULT,
                "ListInputs",
                default_pages,
                f"{n} // {CLARIFAI_OUR_DEFAULT_PAGE} + 1: {no_total}",
            ),
            CallBudget(
                ours, LIST_PAGED, "ListInputs", paged_pages, f"{n} // {CLARIFAI_PAGE} + 1: {no_total}"
            ),
        ],
    )


SCENARIO = Scenario(
    "clarifai_upload_list",
    "clarifai bulk upload + list inputs",
    clarifai_upload_list,
    rounds=3,  # a round of the published SDK uploads 10,000 inputs: heavy
    warmup=1,
    order=30,
)
