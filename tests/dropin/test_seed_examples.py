"""Every code example of the four seeds runs on modelwire with only the documented import rewrite.

The seeds are the provider docs modelwire follows (Clavata SDK, Clarifai Python SDK reference,
clarifai 2.x reference, Decthings Python client). Each code example is copied verbatim into
`seed_examples/<seed>_<nn>_<slug>.(py|sh)`; this test runs it in a subprocess against the session
emulator after:

* `modelwire.migrate.rewrite_imports` (the README's migration table), and nothing else of ours in
  the example's text but
* its placeholders, filled by the example's `Plan.subs` (ids, keys, file names, `...`, the
  `samples.clarifai.com` URLs, served from a loopback web server) and, for every Clarifai
  example, `CLARIFAI_FILLS` (the quoted `user_id` is the emulator's user, `app_id`/`demo_app` an
  app made for the example);
* `Plan.context`: what a fragment continues from, as the doc established it (the Clavata
  `client` of its Quick Start; the 2.x reference's `app = ClarifaiApp(api_key=...)` session);
* `Plan.wrap_async`: a fragment with a top-level `async for` runs inside `asyncio.run`.

State the docs assume (an app, a dataset, a trained model, a file on disk) is made by `Plan.setup`
with modelwire's own SDK. `Plan.check` is code appended after the example (marked as ours) that
asserts on what it made; `Plan.verify` checks the emulator afterwards.

`CANNOT_RUN` lists the examples that cannot run as written, with the reason (the README's list):
each is xfail(strict) and must fail with the error named there, so the list stays honest, and
`test_seed_example_runs_repaired` runs it again with the listed repairs to show that what the
example means works. `PENDING` are examples that wait for SDK methods being added (xfail, not
strict). `test_copies_match_the_seeds` compares the copies with the seeds when the seeds are
present (`../shared/seeds`, or MODELWIRE_SEEDS_DIR).
"""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from seed_support import (
    Append,
    Example,
    Indent,
    Plan,
    Repair,
    Sub,
    WebServer,
    build_script,
    doctest_source,
    load_examples,
)

from modelwire.clarifai import User
from modelwire.emulator import Emulator
from modelwire.migrate import rewrite_imports

EXAMPLES = load_examples()
SEEDS_DIR = Path(
    os.environ.get("MODELWIRE_SEEDS_DIR", Path(__file__).resolve().parents[3] / "shared" / "seeds")
)
PROVIDER_ENV = ("CLAVATA_", "CLARIFAI_", "DECTHINGS_")


def _image(fmt: str, color: tuple[int, int, int], size: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, fmt)
    return buffer.getvalue()


PNG = _image("PNG", (200, 40, 40))
JPEG = _image("JPEG", (40, 160, 60))
JPEG_2 = _image("JPEG", (30, 60, 200))
TIFF = _image("TIFF", (120, 90, 30))
GIF = _image("GIF", (90, 90, 90))
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(64)  # a header, enough to store
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(64)

# Served on the loopback web server in place of the network URLs the examples name.
WEB_FILES = {
    "/metro-north.jpg": JPEG,
    "/dog2.jpeg": JPEG_2,
    "/dog.tiff": TIFF,
    "/image.png": PNG,
}


@dataclass
class Ctx:
    """One example's run: its working directory, its app, and the values its placeholders take."""

    example: Example
    emulator: Emulator
    cwd: Path
    web: WebServer
    blocked_png: bytes
    app_id: str
    values: dict[str, str]
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    _user: User | None = None

    @property
    def user(self) -> User:
        if self._user is None:
            self._user = User(
                user_id=self.emulator.user_id,
                base_url=f"http://{self.emulator.address}",
                pat=self.emulator.api_key,
            )
        return self._user

    def close(self) -> None:
        for step in self.cleanup:
            try:
                step()
            except Exception as exc:  # cleanup must not hide the test's own result
                print(f"cleanup of {self.example.name}: {exc!r}", file=sys.stderr)
        if self._user is not None:
            self._user.close()

    @property
    def app(self) -> Any:
        return self.user.app(self.app_id)


# --- setup steps: state the docs assume, made with modelwire's own SDK --------------------------


def _write_files(ctx: Ctx) -> None:
    """Files every example may name (the docs' relative paths), in its working directory."""
    for name, data in {
        "demo.jpg": JPEG,
        "a.jpeg": JPEG,
        "demo.png": PNG,
        "demo.mp4": MP4,
        "demo.mp3": MP3,
        "bla": PNG,
        "file": PNG,
        "unsupported.gif": GIF,
        "blocked.png": ctx.blocked_png,
        "metro-north.jpg": JPEG,
        "dog2.jpeg": JPEG_2,
        "text.txt": b"a wonderful and happy evening",
    }.items():
        (ctx.cwd / name).write_bytes(data)


def image_folder(ctx: Ctx) -> None:
    folder = ctx.cwd / "demo_folder"
    folder.mkdir()
    for i, color in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200)]):
        (folder / f"image_{i}.png").write_bytes(_image("PNG", color))


def text_folder(ctx: Ctx, name: str = "demo_folder") -> None:
    folder = ctx.cwd / name
    folder.mkdir()
    for i, text in enumerate(["a great phone", "an awful meal", "a sunny day"]):
        (folder / f"text_{i}.txt").write_text(text)


def labelled_text_folder(ctx: Ctx) -> None:
    """`folder_path` for upload_from_folder(labels=True): the folder's name is the label."""
    text_folder(ctx, "folder_path")


def texts_csv(ctx: Ctx) -> None:
    (ctx.cwd / "texts.csv").write_text(
        'inputid,input,concepts\nt1,"a great phone",positive\nt2,"an awful meal",negative\n'
    )


def dataset(ctx: Ctx, dataset_id: str = "dataset_id") -> None:
    ctx.app.create_dataset(dataset_id)


def demo_dataset(ctx: Ctx) -> None:
    dataset(ctx, "demo_dataset")


def dataset_version(ctx: Ctx) -> None:
    dataset(ctx)
    version = ctx.app.dataset("dataset_id").create_version(description="made by the test")
    ctx.values["dataset_version"] = version.version_id


def model(ctx: Ctx, model_type_id: str = "visual-classifier") -> None:
    ctx.app.create_model("model_id", model_type_id=model_type_id)


def model_version(ctx: Ctx) -> None:
    model(ctx)
    ctx.values["model_version"] = (
        ctx.app.model("model_id").create_version(description="by the test").version_id
    )


def trained_model(ctx: Ctx) -> None:
    """model_id: a text classifier trained on a few labelled texts (values: model_version)."""
    inputs = ctx.app.inputs()
    texts = {"positive": ["great", "love it", "wonderful"], "negative": ["awful", "hate it", "terrible"]}
    inputs.upload_inputs_bulk(
        [
            inputs.get_text_input(f"{label}-{i}", text, labels=[label])
            for label, batch in texts.items()
            for i, text in enumerate(batch)
        ],
        show_progress=False,
    )
    trainee = ctx.app.create_model("model_id", model_type_id="text-classifier")
    trainee.get_params(template="NearestCentroid", save_to=str(ctx.cwd / "setup-params.yaml"))
    trainee.update_params(concepts=["positive", "negative"])
    version_id = trainee.train()
    trainee.wait_for_training(version_id, timeout=60)
    ctx.values["model_version"] = version_id


def module(ctx: Ctx) -> None:
    ctx.app.create_module("module_id", description="made by the test")


WORKFLOW_CONFIG = """\
workflow:
  id: workflow_id
  nodes:
    - id: colours
      model:
        model_id: general-image-recognition
        user_id: clarifai
        app_id: main
"""


def workflow_config(ctx: Ctx) -> None:
    (ctx.cwd / "config.yml").write_text(WORKFLOW_CONFIG)


def workflow(ctx: Ctx) -> None:
    workflow_config(ctx)
    ctx.app.create_workflow(config_filepath=str(ctx.cwd / "config.yml"))


def runner(ctx: Ctx) -> None:
    ctx.user.create_runner(ctx.values["runner"], labels=["seed-example"], description="made by the test")
    removes_runner(ctx)


def removes_runner(ctx: Ctx) -> None:
    def remove() -> None:
        if any(r.id == ctx.values["runner"] for r in ctx.user.list_runners()):
            ctx.user.delete_runner(ctx.values["runner"])

    ctx.cleanup.insert(0, remove)


def image_inputs(ctx: Ctx) -> None:
    """Three images (labelled) and two texts in the app, processed."""
    inputs = ctx.app.inputs()
    batch = [
        inputs.get_input_from_bytes(f"img-{i}", image_bytes=_image("PNG", color), labels=[label])
        for i, (color, label) in enumerate(
            [((220, 20, 20), "red"), ((20, 200, 20), "green"), ((20, 20, 220), "blue")]
        )
    ]
    batch += [
        inputs.get_text_input(f"txt-{i}", text) for i, text in enumerate(["a great phone", "a sunny day"])
    ]
    inputs.upload_inputs_bulk(batch, show_progress=False)


def export_archive(ctx: Ctx) -> None:
    """`clarifai-data-protobuf.zip`: an export of a dataset version, as Dataset.export reads it."""
    image_inputs(ctx)
    exported = ctx.app.create_dataset("exported")
    inputs = ctx.app.inputs()
    inputs.upload_inputs_bulk(
        [inputs.get_text_input("in-export", "exported text", dataset_id="exported")], show_progress=False
    )
    exported.export(save_path=str(ctx.cwd / "made-by-setup.zip"))
    archive = exported.archive_zip()
    from modelwire.clarifai._download import fetch

    (ctx.cwd / "clarifai-data-protobuf.zip").write_bytes(fetch(archive, exported._conn, source="api"))


def app_key(ctx: Ctx) -> None:
    ctx.values["app_key"] = ctx.emulator.clarifai.create_app_key(ctx.app_id)


def _legacy(ctx: Ctx) -> Any:
    """modelwire's 2.x client on the example's app (its app key made by `app_key`)."""
    from modelwire.clarifai.legacy import ClarifaiApp

    if "app_key" not in ctx.values:
        app_key(ctx)
    legacy = ClarifaiApp(api_key=ctx.values["app_key"], base_url=f"http://{ctx.emulator.address}")
    ctx.cleanup.insert(0, legacy.close)
    return legacy


def legacy_concepts(ctx: Ctx) -> None:
    """myid1, myid2, id, cat and enough more for a second page of 10."""
    extra = [f"c{i:02d}" for i in range(10)]
    _legacy(ctx).concepts.bulk_create(["myid1", "myid2", "id", "cat", *extra])


def legacy_inputs(ctx: Ctx) -> None:
    """Images id (cat, dog), id1, abc, abc1, abc2 and enough more for a second page of 10."""
    from modelwire.clarifai.legacy import Image as LegacyImage

    ids = ["id", "id1", "abc", "abc1", "abc2"] + [f"more-{i}" for i in range(7)]
    images = [
        LegacyImage(
            file_obj=io.BytesIO(_image("PNG", (20 * i, 255 - 20 * i, 90))),
            image_id=image_id,
            concepts=["cat", "dog"] if image_id == "id" else None,
            metadata={"name": "bla"} if image_id == "id1" else None,
        )
        for i, image_id in enumerate(ids)
    ]
    legacy = _legacy(ctx)
    legacy.inputs.bulk_create_images(images)
    legacy.wait_until_inputs_upload_finish()


def legacy_model(ctx: Ctx) -> None:
    """model_id (concepts cat, dog) with a version (values: model_version), and model_id1 with a
    version (values: model_id1_version)."""
    legacy_inputs(ctx)
    legacy = _legacy(ctx)
    for model_id, key in (("model_id", "model_version"), ("model_id1", "model_id1_version")):
        made = legacy.models.create(model_id, concepts=["cat", "dog"])
        ctx.values[key] = made.train(sync=True).model_version


# The 2.x reference's doctests continue one session: `app` is the ClarifaiApp of its key.
LEGACY_SESSION = """\
from clarifai.rest.client import ClarifaiApp, Image, Geo, GeoPoint, GeoLimit
from clarifai.rest.client import InputSearchTerm, OutputSearchTerm, SearchQueryBuilder
app = ClarifaiApp(api_key="${app_key}")
"""
LEGACY_MODEL = LEGACY_SESSION + "model = app.models.get('model_id')\n"


# --- verification of the emulator's state afterwards -----------------------------------------------


def app_exists(ctx: Ctx) -> None:
    assert any(app.id == ctx.app_id for app in ctx.user.list_apps())


def app_is_gone(ctx: Ctx) -> None:
    assert all(app.id != ctx.app_id for app in ctx.user.list_apps())


def runner_exists(ctx: Ctx) -> None:
    assert any(r.id == ctx.values["runner"] for r in ctx.user.list_runners())


def runner_is_gone(ctx: Ctx) -> None:
    assert all(r.id != ctx.values["runner"] for r in ctx.user.list_runners())


def _eventually(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def webhook_delivered(ctx: Ctx) -> None:
    _eventually(lambda: bool(ctx.web.posts_to("/path/to/hook")), "the webhook POST to /path/to/hook")


# --- the plans -----------------------------------------------------------------------------------

# Every Clarifai example (001, 002): these quoted ids and URLs, where they occur.
CLARIFAI_FILLS = (
    Sub('"user_id"', '"${user}"'),
    Sub("'user_id'", "'${user}'"),
    Sub('"app_id"', '"${app}"'),
    Sub("'app_id'", "'${app}'"),
    Sub("'demo_app'", "'${app}'"),
    Sub("https://samples.clarifai.com/", "${web}/"),
)

CLAVATA_CLIENT = """\
from clavata_sdk import ClavataClient, EvaluateRequest, ContentData
client = ClavataClient.create()
"""
CLAVATA_CALL = """\
job = client.create_job(content="hello", policy_id="demo-policy", wait_for_completion=True)
print("CHECK job", job.status)
"""
# `client.evaluate(...)` in the refusal snippets: content the emulator refuses.
UNSUPPORTED = Sub(
    "client.evaluate(...)",
    "client.evaluate(EvaluateRequest(content=[ContentData(image=open('unsupported.gif', 'rb').read())], "
    "policy_id='demo-policy'))",
)
CSAM = Sub(
    "client.evaluate(...)",
    "client.evaluate(EvaluateRequest(content=[ContentData(image=open('blocked.png', 'rb').read())], "
    "policy_id='demo-policy'))",
)
# A stream raises when iterated: the snippets' bare `client.evaluate(...)` never does.
CONSUMED = Sub("client.evaluate(EvaluateRequest(", "list(client.evaluate(EvaluateRequest(")
CLOSE_CONSUMED = Sub("policy_id='demo-policy'))", "policy_id='demo-policy')))")
REFUSAL_IMPORT = Sub("try:", "from clavata_sdk import EvaluationRefusedError\ntry:")

DECTHINGS_FILLS = (
    Sub('"<myapikey>"', '"${key}"'),
    Sub('"<modelid>"', '"decthings-text-embedder"'),
    Sub('"<parameter>"', '"input"'),
    Sub('"<datasetid>"', '"${dataset}"'),
    Sub('"<key>"', '"value"'),
)


def decthings_dataset(ctx: Ctx) -> None:
    from modelwire.decthings import DecthingsClientSync

    with DecthingsClientSync(
        api_key=ctx.emulator.api_key, http_server_address=ctx.emulator.decthings_url
    ) as c:
        made = c.dataset.create_dataset(
            {
                "name": f"seed-{uuid.uuid4().hex[:8]}",
                "description": "for the seed's example",
                "keys": [{"name": "value", "rules": {"shape": [], "allowedTypes": ["i32"]}}],
            }
        )
    ctx.values["dataset"] = made["datasetId"]


def decthings_entry_added(ctx: Ctx) -> None:
    from modelwire.decthings import DecthingsClientSync

    with DecthingsClientSync(
        api_key=ctx.emulator.api_key, http_server_address=ctx.emulator.decthings_url
    ) as c:
        found = c.dataset.get_datasets({"datasetIds": [ctx.values["dataset"]]})["datasets"][0]
    assert found["entries"]["count"] == 1, found


PLANS: dict[str, Plan] = {
    # --- 000: Clavata SDK -------------------------------------------------------------------------
    # The shell line sets the key; 000_02 (the doc's next snippet) then runs with it.
    "000_01_export_api_key": Plan(
        subs=(Sub('"YOUR_API_KEY"', '"${key}"'),),
        env_drop=("CLAVATA_API_KEY",),
        expect=("CHECK job COMPLETED",),
    ),
    "000_02_create_from_env": Plan(check=CLAVATA_CALL, expect=("CHECK job COMPLETED",)),
    "000_03_create_with_token": Plan(
        subs=(Sub('"API_KEY"', '"${key}"'),),
        env_drop=("CLAVATA_API_KEY",),
        check=CLAVATA_CALL,
        expect=("CHECK job COMPLETED",),
    ),
    "000_04_custom_host_port": Plan(
        subs=(
            Sub('"YOUR_API_KEY"', '"${key}"'),
            Sub('host="gateway.app.clavata.ai", port=443', 'host="${host}", port=${port}'),
        ),
        env_drop=("CLAVATA_API_KEY", "CLAVATA_EMULATOR_HOST"),
        check=CLAVATA_CALL,
        expect=("CHECK job COMPLETED",),
    ),
    "000_05_basic_use": Plan(
        context=CLAVATA_CLIENT,
        subs=(
            Sub(
                "ContentData(...), ...)", 'ContentData(text="The quick brown fox"), policy_id="demo-policy")'
            ),
            Sub(
                'content="The quick brown fox", ...)',
                'content="The quick brown fox", policy_id="demo-policy")',
            ),
        ),
        wrap_async=True,
        expect=("EvaluateResponse(",),
    ),
    "000_06_webhook": Plan(
        subs=(
            Sub(
                'content="The quick brown fox", ...)',
                'content="The quick brown fox", policy_id="demo-policy")',
            ),
            Sub("https://youdomain.com/path/to/hook", "${web}/path/to/hook"),
        ),
        expect=("Job(",),
        verify=(webhook_delivered,),
    ),
    "000_07_refusals": Plan(context=CLAVATA_CLIENT, subs=(UNSUPPORTED,), expect=("Refused content: ",)),
    "000_08_refusal_properties": Plan(
        context=CLAVATA_CLIENT,
        subs=(UNSUPPORTED,),
        expect=("Refused content: ", "First refusal reason:  UNSUPPORTED_FORMAT", "Refused hashes: "),
    ),
    "000_09_refusal_reason_enum": Plan(
        context=CLAVATA_CLIENT,
        subs=(CSAM, Sub("# etc ...", 'print("CSAM found:", err.refused_content_hashes)')),
        expect=("CSAM found: ",),
    ),
    # --- 001: Clarifai Python SDK reference ----------------------------------------------------------
    "001_01_user_app": Plan(check='print("CHECK", app.id)', expect=("CHECK s001-01",)),
    "001_02_user_create_app": Plan(app=False, check='print("CHECK", app.id)', verify=(app_exists,)),
    "001_03_user_create_runner": Plan(
        subs=(Sub('"runner_id"', '"${runner}"'),), setup=(removes_runner,), verify=(runner_exists,)
    ),
    "001_04_user_delete_app": Plan(verify=(app_is_gone,)),
    "001_05_user_delete_runner": Plan(
        subs=(Sub('"runner_id"', '"${runner}"'),), setup=(runner,), verify=(runner_is_gone,)
    ),
    "001_06_user_list_apps": Plan(check='assert "${app}" in [a.id for a in apps]'),
    "001_07_user_list_runners": Plan(
        setup=(runner,), check='assert "${runner}" in [r.id for r in all_runners]'
    ),
    "001_08_user_runner": Plan(
        subs=(Sub('"runner_id"', '"${runner}"'),), setup=(runner,), check='assert runner.id == "${runner}"'
    ),
    "001_09_app_create_dataset": Plan(check='assert dataset.id == "dataset_id"'),
    "001_10_app_create_model": Plan(check='assert model.id == "model_id"'),
    "001_11_app_create_module": Plan(check='assert module.id == "module_id"'),
    "001_12_app_create_workflow": Plan(setup=(workflow_config,), check='assert workflow.id == "workflow_id"'),
    "001_13_app_dataset": Plan(setup=(dataset,), check='assert dataset.id == "dataset_id"'),
    "001_14_app_delete_dataset": Plan(setup=(dataset,), check="assert not list(app.list_datasets())"),
    "001_15_app_delete_model": Plan(setup=(model,), check="assert not list(app.list_models())"),
    "001_16_app_delete_module": Plan(setup=(module,), check="assert not list(app.list_modules())"),
    "001_17_app_delete_workflow": Plan(setup=(workflow,), check="assert not list(app.list_workflows())"),
    "001_18_app_list_datasets": Plan(
        setup=(dataset,), check='assert [d.id for d in all_datasets] == ["dataset_id"]'
    ),
    "001_19_app_list_installed_module_versions": Plan(
        check="assert list(all_installed_module_versions) == []"
    ),
    "001_20_app_list_models": Plan(setup=(model,), check='assert "model_id" in [m.id for m in all_models]'),
    "001_21_app_list_modules": Plan(
        setup=(module,), check='assert [m.id for m in all_modules] == ["module_id"]'
    ),
    "001_22_app_list_workflows": Plan(
        setup=(workflow,), check='assert [w.id for w in all_workflows] == ["workflow_id"]'
    ),
    "001_23_app_list_trainable_model_types": Plan(expect=("visual-classifier",)),
    "001_24_app_search": Plan(check="print('CHECK', type(search_client).__name__)", expect=("CHECK Search",)),
    "001_25_app_model": Plan(
        subs=(Sub('"model_version_id"', '"${model_version}"'),),
        setup=(model_version,),
        check='assert model_v1.id == "model_id" and model_v1.version_id == "${model_version}"',
    ),
    "001_26_app_module": Plan(setup=(module,), check='assert module.id == "module_id"'),
    "001_27_app_workflow": Plan(setup=(workflow,), check='assert workflow.id == "workflow_id"'),
    "001_28_dataset_export": Plan(
        setup=(export_archive,),
        check="""\
        import zipfile
        names = zipfile.ZipFile("output.zip").namelist()
        print("CHECK exported", len(names))
        """,
        expect=("CHECK exported",),
    ),
    "001_29_dataset_upload_from_csv": Plan(
        subs=(Sub("'csv_path'", "'texts.csv'"),),
        setup=(demo_dataset, texts_csv),
        check="""\
        listed = dataset._inputs.list_inputs(dataset_id="demo_dataset")
        assert sorted(i.id for i in listed) == ["t1", "t2"]
        """,
    ),
    "001_30_dataset_upload_from_folder": Plan(
        setup=(demo_dataset, labelled_text_folder),
        check='assert len(list(dataset._inputs.list_inputs(dataset_id="demo_dataset"))) == 3',
    ),
    "001_31_dataset_get_upload_status": Plan(
        context='''\
        class ReviewsLoader:
            """A ClarifaiDataLoader for `dataloader`: two labelled texts."""
            task = "text_classification"
            def __len__(self):
                return 2
            def __getitem__(self, index):
                from types import SimpleNamespace
                text = ["good", "bad"][index]
                return SimpleNamespace(text=text, labels=["positive"], id=f"r{index}", metadata=None)
        dataloader = ReviewsLoader()
        ''',
        setup=(dataset,),
    ),
    "001_32_dataset_list_versions": Plan(
        setup=(dataset_version,),
        check='assert [v.version_id for v in all_dataset_versions] == ["${dataset_version}"]',
    ),
    "001_33_dataset_create_version": Plan(setup=(dataset,), check="assert dataset_version.version_id"),
    "001_34_dataset_delete_version": Plan(
        subs=(Sub("'version_id'", "'${dataset_version}'"),), setup=(dataset_version,)
    ),
    "001_35_inputs_delete_inputs": Plan(
        setup=(image_inputs,), check="assert list(input_obj.list_inputs()) == []"
    ),
    "001_36_inputs_get_image_inputs_from_folder": Plan(
        setup=(image_folder,), check="assert len(input_protos) == 3"
    ),
    "001_37_inputs_get_input_from_bytes": Plan(
        check="""\
        assert input_proto.id == "demo"
        assert input_proto.data.image.base64 and input_proto.data.video.base64
        """
    ),
    "001_38_inputs_get_input_from_file": Plan(
        subs=(Sub("'file_path'", "'demo.mp4'"),), check="assert input_proto.data.video.base64"
    ),
    "001_39_inputs_get_input_from_url": Plan(
        check='assert input_proto.data.image.url.endswith("/metro-north.jpg")'
    ),
    "001_40_inputs_get_inputs_from_csv": Plan(
        subs=(Sub("'filepath'", "'texts.csv'"),), setup=(texts_csv,), check="assert len(input_protos) == 2"
    ),
    "001_41_inputs_get_mask_proto": Plan(
        subs=(Sub("polygons=[[[x,y],...,[x,y]],...]", "polygons=[[[0.1,0.1],[0.5,0.1],[0.5,0.5]]]"),),
    ),
    "001_42_inputs_get_text_input": Plan(check='assert input_protos.data.text.raw == "This is a test"'),
    "001_43_inputs_get_text_inputs_from_folder": Plan(
        setup=(text_folder,), check="assert len(input_protos) == 3"
    ),
    "001_44_inputs_list_inputs": Plan(
        setup=(image_inputs,), check="assert len(list(input_obj.list_inputs())) == 5"
    ),
    "001_45_inputs_upload_from_bytes": Plan(
        check='assert [i.id for i in input_obj.list_inputs()] == ["demo"]'
    ),
    "001_46_inputs_upload_from_file": Plan(
        check='assert [i.id for i in input_obj.list_inputs()] == ["demo"]'
    ),
    "001_47_inputs_upload_from_url": Plan(check='assert [i.id for i in input_obj.list_inputs()] == ["demo"]'),
    "001_48_inputs_upload_text": Plan(check='assert [i.id for i in input_obj.list_inputs()] == ["demo"]'),
    "001_49_input_get_multimodal_input": Plan(
        check="assert input_protos.data.text.raw and input_protos.data.image.url"
    ),
    "001_50_input_get_bbox_proto": Plan(subs=(Sub("[x_min, y_min, x_max, y_max]", "[0.1, 0.2, 0.6, 0.7]"),)),
    "001_51_input_list_annotations": Plan(setup=(image_inputs,), check="assert len(all_annotations) >= 3"),
    "001_52_input_download_inputs": Plan(setup=(image_inputs,)),
    "001_53_model_create_version": Plan(
        subs=(Sub('"model_url"', '"https://clarifai.com/${user}/${app}/models/model_id"'),),
        setup=(model,),
        check="assert model_version.version_id",
    ),
    "001_54_model_list_versions": Plan(
        subs=(Sub('"model_url"', '"https://clarifai.com/${user}/${app}/models/model_id"'),),
        setup=(model_version,),
        check='assert [m.version_id for m in all_model_versions] == ["${model_version}"]',
    ),
    "001_55_model_predict_by_bytes": Plan(check="assert model_prediction.outputs[0].data.concepts"),
    # The model the reader picks: the public image model of the doc's example URL.
    "001_56_model_predict_by_filepath": Plan(
        subs=(
            Sub('"model_url"', '"https://clarifai.com/clarifai/main/models/general-image-recognition"'),
            Sub(
                "model_id='model_id', user_id='user_id', app_id='app_id'",
                "model_id='general-image-recognition', user_id='clarifai', app_id='main'",
            ),
            Sub("'/path/to/image.jpg'", "'demo.jpg'"),
            Sub("'/path/to/text.txt'", "'text.txt'"),
        ),
        check="assert model_prediction.outputs[0].data.concepts",
    ),
    "001_57_model_predict_by_url": Plan(
        subs=(
            Sub('"model_url"', '"https://clarifai.com/clarifai/main/models/general-image-recognition"'),
            Sub(
                "model_id='model_id', user_id='user_id', app_id='app_id'",
                "model_id='general-image-recognition', user_id='clarifai', app_id='main'",
            ),
            Sub("'url'", "'${web}/metro-north.jpg'"),
        ),
        check="assert model_prediction.outputs[0].data.concepts",
    ),
    "001_58_model_list_training_templates": Plan(setup=(model,), expect=("NearestCentroid",)),
    "001_59_model_get_params": Plan(
        subs=(Sub("'template'", "'LogisticRegression'"),),
        setup=(model,),
        check="""\
        import yaml
        assert yaml.safe_load(open("model_params.yaml"))["train_params"]["template"] == "LogisticRegression"
        """,
    ),
    "001_60_model_update_params": Plan(
        subs=(Sub("'template'", "'LogisticRegression'"), Sub("'dataset_version_id'", "'${dataset_version}'")),
        setup=(model, dataset_version),
    ),
    "001_61_model_get_param_info": Plan(
        subs=(Sub("'template'", "'LogisticRegression'"), Sub("'param'", "'epochs'")),
        setup=(model,),
        check='print("CHECK", model.get_param_info("epochs")["param"])',
        expect=("CHECK epochs",),
    ),
    "001_62_model_train": Plan(
        subs=(Sub("'template'", "'NearestCentroid'"),),
        setup=(model, image_inputs),
        check="print('CHECK trained version', model.version_id)",
        expect=("CHECK trained version",),
    ),
    "001_63_model_training_status": Plan(
        subs=(Sub("'version_id'", "'${model_version}'"),), setup=(trained_model,)
    ),
    "001_64_model_delete_version": Plan(
        subs=(Sub("'version_id'", "'${model_version}'"),),
        setup=(model_version,),
        check="assert list(model.list_versions()) == []",
    ),
    "001_65_workflow_list_versions": Plan(
        setup=(workflow,), check="assert len(list(workflow_versions)) == 1"
    ),
    "001_66_workflow_predict_by_filepath": Plan(
        subs=(
            Sub('"workflow_url"', '"https://clarifai.com/${user}/${app}/workflows/workflow_id"'),
            Sub("'filepath'", "'demo.jpg'"),
        ),
        setup=(workflow,),
        check="assert workflow_prediction.results[0].outputs[0].data.concepts",
    ),
    "001_67_workflow_predict_by_url": Plan(
        subs=(
            Sub('"workflow_url"', '"https://clarifai.com/${user}/${app}/workflows/workflow_id"'),
            Sub("'url'", "'${web}/metro-north.jpg'"),
        ),
        setup=(workflow,),
        check="assert workflow_prediction.results[0].outputs[0].data.concepts",
    ),
    "001_68_workflow_export": Plan(
        setup=(workflow,), check="import os; assert os.path.getsize('out_path.yml')"
    ),
    "001_69_module_list_versions": Plan(setup=(module,), check="assert list(all_Module_versions) == []"),
    "001_70_search_query_filters": Plan(
        setup=(image_inputs,),
        check="""\
        hits = [hit.input.id for page in res for hit in page.hits]
        print("CHECK hits", sorted(hits))
        """,
        expect=("CHECK hits ['img-0', 'img-1', 'img-2', 'txt-0', 'txt-1']",),
    ),
    "001_71_search_query_ranks": Plan(
        setup=(image_inputs,),
        check="""\
        hits = [hit.input.id for page in res for hit in page.hits]
        print("CHECK hits", hits)
        assert len(hits) == 1
        """,
    ),
    # --- 002: clarifai 2.x reference (doctests of one session; see LEGACY_SESSION) -------------------
    "002_01_app_tag_files": Plan(
        context=LEGACY_SESSION,
        subs=(Sub("'/tmp/metro-north.jpg'", "'metro-north.jpg'"), Sub("'/tmp/dog2.jpeg'", "'dog2.jpeg'")),
        setup=(app_key,),
    ),
    "002_02_app_tag_urls": Plan(context=LEGACY_SESSION, setup=(app_key,)),
    "002_03_concepts_bulk_create": Plan(
        context=LEGACY_SESSION,
        setup=(app_key,),
        check="assert {c.concept_id: c.concept_name for c in app.concepts.get_all()} == "
        "{'id1': 'cute cat', 'id2': 'cute dog'}",
    ),
    "002_04_concepts_bulk_update": Plan(
        context=LEGACY_SESSION,
        setup=(legacy_concepts,),
        check="assert app.concepts.get('myid2').concept_name == 'name3'",
    ),
    "002_05_concepts_get": Plan(context=LEGACY_SESSION, setup=(legacy_concepts,)),
    "002_06_concepts_get_by_page": Plan(context=LEGACY_SESSION, setup=(legacy_concepts,)),
    "002_07_concepts_search": Plan(context=LEGACY_SESSION, setup=(legacy_concepts,)),
    "002_08_concepts_update": Plan(
        context=LEGACY_SESSION,
        setup=(legacy_concepts,),
        check="assert app.concepts.get('myid1').concept_name == 'new_concept_name2'",
    ),
    "002_09_inputs_add_concepts": Plan(
        context=LEGACY_SESSION,
        setup=(legacy_inputs,),
        check="assert {'cat', 'kitty'} <= set(app.inputs.get('id').concepts)",
    ),
    "002_10_inputs_bulk_create_images": Plan(
        context=LEGACY_SESSION,
        subs=(
            Sub('url=""', 'url="${web}/metro-north.jpg"', 1),
            Sub('url=""', 'url="${web}/dog2.jpeg"', 1),
        ),
        setup=(app_key,),
        check="assert len(list(app.inputs.get_all())) == 2",
    ),
    "002_11_inputs_bulk_delete_concepts": Plan(
        context=LEGACY_SESSION,
        setup=(legacy_inputs,),
        check="assert not app.inputs.get('id').concepts",
    ),
    "002_12_inputs_bulk_merge_concepts": Plan(context=LEGACY_SESSION, setup=(legacy_inputs,)),
    "002_13_inputs_bulk_update": Plan(context=LEGACY_SESSION, setup=(legacy_inputs,)),
    "002_14_inputs_check_status": Plan(context=LEGACY_SESSION, setup=(legacy_inputs,)),
    "002_15_inputs_create_image": Plan(
        context=LEGACY_SESSION, setup=(app_key,), check="assert len(list(app.inputs.get_all())) == 1"
    ),
    "002_16_inputs_create_image_from_base64": Plan(
        context=LEGACY_SESSION,
        subs=(Sub('"base64 encoded image bytes..."', '"${png_b64}"'),),
        setup=(app_key,),
        check="assert len(list(app.inputs.get_all())) == 1",
    ),
    "002_17_inputs_create_image_from_bytes": Plan(
        context=LEGACY_SESSION,
        subs=(Sub('"raw image bytes..."', "open('demo.png', 'rb').read()"),),
        setup=(app_key,),
        check="assert len(list(app.inputs.get_all())) == 1",
    ),
    "002_18_inputs_create_image_from_filename": Plan(
        context=LEGACY_SESSION, setup=(app_key,), check="assert len(list(app.inputs.get_all())) == 1"
    ),
    "002_19_inputs_create_image_from_url": Plan(context=LEGACY_SESSION, setup=(app_key,)),
    "002_20_inputs_delete": Plan(context=LEGACY_SESSION, setup=(legacy_inputs,)),
    "002_21_inputs_get": Plan(context=LEGACY_SESSION, setup=(legacy_inputs,)),
    "002_22_inputs_get_all": Plan(context=LEGACY_SESSION, setup=(legacy_inputs,)),
    "002_23_inputs_get_by_page": Plan(context=LEGACY_SESSION, setup=(legacy_inputs,)),
    "002_24_inputs_merge_concepts": Plan(
        context=LEGACY_SESSION,
        setup=(legacy_inputs,),
        check="assert {'cat', 'kitty'} <= set(app.inputs.get('id').concepts)",
    ),
    "002_25_inputs_merge_metadata": Plan(
        context=LEGACY_SESSION,
        setup=(legacy_inputs,),
        check="assert app.inputs.get('id').metadata == {'key1': 'value1', 'key2': 'value2'}",
    ),
    "002_26_inputs_search_by_annotated_concepts": Plan(
        context=LEGACY_SESSION,
        setup=(legacy_inputs,),
        check="assert [i.input_id for i in app.inputs.search_by_annotated_concepts(concept='cat')] == ['id']",
    ),
    "002_27_inputs_search_by_geo": Plan(context=LEGACY_SESSION, setup=(legacy_inputs,)),
    "002_28_inputs_search_by_image": Plan(
        context=LEGACY_SESSION,
        subs=(
            Sub("url='http://blabla'", "url='${web}/metro-north.jpg'"),
            Sub("imgbytes='data'", "imgbytes=open('bla', 'rb').read()"),
            Sub("base64bytes='data'", "base64bytes='${png_b64}'"),
        ),
        setup=(legacy_inputs,),
    ),
    "002_29_inputs_search_by_metadata": Plan(
        context=LEGACY_SESSION,
        setup=(legacy_inputs,),
        check="""\
        found = app.inputs.search_by_metadata(metadata={'name': 'bla'})
        assert [i.input_id for i in found] == ['id1']
        """,
    ),
    "002_30_inputs_search_by_original_url": Plan(
        context=LEGACY_SESSION,
        subs=(Sub("'http://bla'", "'${web}/metro-north.jpg'"),),
        setup=(legacy_inputs,),
    ),
    "002_31_inputs_search_by_predicted_concepts": Plan(context=LEGACY_SESSION, setup=(legacy_inputs,)),
    "002_32_inputs_update": Plan(
        context=LEGACY_SESSION,
        setup=(legacy_inputs,),
        check="assert app.inputs.get('abc').metadata == {'key': 'val'}",
    ),
    "002_33_models_create": Plan(
        context=LEGACY_SESSION,
        setup=(app_key,),
        check="assert {'my_model1', 'my_model2', 'my_model3'} <= {m.model_id for m in app.models.get_all()}",
    ),
    "002_34_models_delete": Plan(
        context=LEGACY_SESSION, subs=(Sub("'version1'", "'${model_id1_version}'"),), setup=(legacy_model,)
    ),
    "002_35_models_delete_all": Plan(
        context=LEGACY_SESSION,
        setup=(legacy_model,),
        check="assert not [m for m in app.models.get_all(private_only=True)]",
    ),
    "002_36_models_get": Plan(context=LEGACY_SESSION, setup=(app_key,)),
    "002_37_models_get_all": Plan(context=LEGACY_SESSION, setup=(legacy_model,)),
    "002_38_models_get_by_page": Plan(context=LEGACY_SESSION, setup=(legacy_model,)),
    "002_39_models_search": Plan(context=LEGACY_SESSION, setup=(app_key,)),
    "002_40_model_add_concepts": Plan(context=LEGACY_SESSION, setup=(legacy_model,)),
    "002_41_model_delete_concepts": Plan(context=LEGACY_SESSION, setup=(legacy_model,)),
    "002_42_model_delete_version": Plan(
        context=LEGACY_SESSION,
        subs=(Sub("'model_version_id'", "'${model_version}'"),),
        setup=(legacy_model,),
    ),
    "002_43_model_get_concept_ids": Plan(
        context=LEGACY_MODEL, setup=(legacy_model,), check="assert sorted(ids) == ['cat', 'dog']"
    ),
    "002_44_model_get_info": Plan(context=LEGACY_MODEL, setup=(legacy_model,)),
    "002_45_model_get_version": Plan(
        context=LEGACY_SESSION,
        subs=(Sub("'model_version_id'", "'${model_version}'"),),
        setup=(legacy_model,),
    ),
    "002_46_model_list_versions": Plan(context=LEGACY_SESSION, setup=(legacy_model,)),
    "002_47_model_update": Plan(context=LEGACY_SESSION, setup=(legacy_model,)),
    "002_48_input_search_term": Plan(context=LEGACY_SESSION, setup=(app_key,)),
    "002_49_output_search_term": Plan(
        context=LEGACY_SESSION, subs=(Sub("base64='sdfds'", "base64='${png_b64}'"),), setup=(app_key,)
    ),
    # `term1`, `term2`: the terms the reader adds (the doc's placeholders).
    "002_50_search_query_builder": Plan(
        context=LEGACY_SESSION
        + "term1 = InputSearchTerm(concept='cat')\nterm2 = OutputSearchTerm(concept='red')\n",
        setup=(legacy_inputs,),
    ),
    # --- 003: Decthings Python client -------------------------------------------------------------
    "003_01_async_client": Plan(
        subs=DECTHINGS_FILLS[:1],
        check="""\
        import asyncio
        result, error = asyncio.run(client.model.get_models({}))
        assert error is None, error
        print("CHECK models", len(result["models"]))
        """,
        expect=("CHECK models",),
    ),
    "003_02_sync_client": Plan(
        subs=DECTHINGS_FILLS[:1],
        check="""\
        result, error = client.model.get_models({})
        assert error is None, error
        print("CHECK models", len(result["models"]))
        """,
        expect=("CHECK models",),
    ),
    "003_03_async_example": Plan(
        subs=DECTHINGS_FILLS, setup=(decthings_dataset,), verify=(decthings_entry_added,)
    ),
    "003_04_sync_example": Plan(
        subs=DECTHINGS_FILLS, setup=(decthings_dataset,), verify=(decthings_entry_added,)
    ),
}


@dataclass(frozen=True)
class Broken:
    """An example that cannot run as written: why (for the README), the error it then fails with
    (a substring of its stderr), and the repairs that make it run."""

    reason: str
    error: str
    repairs: tuple[Repair, ...] = ()


LOST_INDENT = "the seed text lost the indentation of its blocks"
PY2_PRINT = "Python 2: a `print` statement"
PRINT_ERROR = "SyntaxError: Missing parentheses in call to 'print'"
SELF_APP = "uses `self.app` (copied from a test method); the session's ClarifaiApp is `app`"
SELF_ERROR = "NameError: name 'self' is not defined"
SELF_REPAIR = Sub("self.app", "app")
CLOSED_ENVIRONMENT = (
    "`closed_environment=True`: the V2 API has no such setting (clarifai-grpc 12.6.0's OutputConfig "
    "neither declares nor reserves it), so modelwire refuses it with UserError instead of dropping it"
)

CANNOT_RUN: dict[str, Broken] = {
    "000_05_basic_use": Broken(
        f"{LOST_INDENT} (the `async for` body)",
        "IndentationError",
        (Indent(6, 6),),
    ),
    "000_07_refusals": Broken(
        f"{LOST_INDENT}; `EvaluationRefusedError` is imported only by a later snippet; "
        "`client.evaluate(...)` returns a stream, which raises only when iterated (in clavata-sdk "
        "too), so the bare call cannot raise the refusal",
        "IndentationError",
        (Indent(2, 2), Indent(4, 4), CONSUMED, CLOSE_CONSUMED, REFUSAL_IMPORT),
    ),
    "000_08_refusal_properties": Broken(
        f"{LOST_INDENT}; as in the previous snippet, `EvaluationRefusedError` is not imported and the "
        "stream is never iterated",
        "IndentationError",
        (Indent(2, 2), Indent(4, 8), CONSUMED, CLOSE_CONSUMED, REFUSAL_IMPORT),
    ),
    "000_09_refusal_reason_enum": Broken(
        f"{LOST_INDENT}; the stream is never iterated, so no refusal is raised",
        "IndentationError",
        (Indent(3, 3), Indent(5, 5), Indent(6, 7, 8), CONSUMED, CLOSE_CONSUMED),
    ),
    "001_11_app_create_module": Broken(
        "omits `create_module`'s required `description` argument",
        "TypeError: App.create_module() missing 1 required positional argument: 'description'",
        (Sub('module_id="module_id")', 'module_id="module_id", description="a module")'),),
    ),
    "001_23_app_list_trainable_model_types": Broken(
        "uses `app` without creating it",
        "NameError: name 'app' is not defined",
        (Sub("print(app.", 'app = App(app_id="app_id", user_id="user_id")\nprint(app.'),),
    ),
    "001_34_dataset_delete_version": Broken(
        "the `Dataset(...)` call is cut off: its `app_id` argument and closing parenthesis are missing",
        "SyntaxError",
        (
            Sub(
                "user_id='user_id', dataset.delete_version",
                "user_id='user_id', app_id='app_id')\ndataset.delete_version",
            ),
        ),
    ),
    "001_41_inputs_get_mask_proto": Broken(
        "`polygons` is nested one level deeper than `get_mask_proto` takes (one polygon: a list of "
        "[x, y] points; clarifai 12.5.0 fails on the doc's nesting too)",
        "polygons must be",
        (Sub("polygons=[[[0.1,0.1],[0.5,0.1],[0.5,0.5]]]", "polygons=[[0.1,0.1],[0.5,0.1],[0.5,0.5]]"),),
    ),
    "001_55_model_predict_by_bytes": Broken(
        "predicts with Anthropic's claude-v2 (user `anthropic`), which the emulator does not host",
        "user 'anthropic' does not exist",
        (
            Sub(
                "https://clarifai.com/anthropic/completion/models/claude-v2",
                "https://clarifai.com/clarifai/main/models/general-text-classification",
            ),
        ),
    ),
    "001_56_model_predict_by_filepath": Broken(
        "predicts an image file and a text file with one model; no model the emulator computes takes "
        "both (its multimodal-to-text type is served by a runner)",
        "this input is text",
        (
            Sub(
                "model.predict_by_filepath('text.txt', 'text')",
                'Model("https://clarifai.com/clarifai/main/models/general-text-classification")'
                ".predict_by_filepath('text.txt', 'text')",
            ),
        ),
    ),
    "001_60_model_update_params": Broken(
        "`dataset_version` is not a training parameter (`dataset_version_id` is; clarifai 12.5.0 "
        "raises UserError too), and the emulator's templates (NearestCentroid, LogisticRegression) "
        "have no `batch_size`",
        "unknown parameter(s) ['batch_size', 'dataset_version']",
        (Sub("batch_size = 8, dataset_version = ", "epochs = 8, dataset_version_id = "),),
    ),
    "001_62_model_train": Broken(
        "trains with the parameters `get_params` wrote, unedited: no concepts to learn, which the "
        "API refuses",
        "list the concepts to learn",
        (
            Sub(
                "model.train('model_params.yaml')",
                "import yaml\nparams = yaml.safe_load(open('model_params.yaml'))\n"
                "params['concepts'] = ['red', 'green', 'blue']\n"
                "yaml.safe_dump(params, open('model_params.yaml', 'w'))\nmodel.train('model_params.yaml')",
            ),
        ),
    ),
    "001_68_workflow_export": Broken(
        "exports Clarifai's public Demographics workflow, which the emulator does not host",
        "workflow 'Demographics' does not exist in app 'main' of user 'clarifai'",
        (
            Sub(
                "https://clarifai.com/clarifai/main/workflows/Demographics",
                "https://clarifai.com/${user}/${app}/workflows/workflow_id",
            ),
        ),
    ),
    # --- 002: the 2.x reference ---
    "002_01_app_tag_files": Broken(
        "calls `tag_urls` with local file names (files are tagged with `tag_files`)",
        "url must be an http(s)",
        (Sub("app.tag_urls(files)", "app.tag_files(files)"),),
    ),
    "002_06_concepts_get_by_page": Broken(
        PY2_PRINT, PRINT_ERROR, (Sub("print concept.concept_id", "print(concept.concept_id)"),)
    ),
    "002_13_inputs_bulk_update": Broken(
        "passes a list to `update`, which takes one Image (a list goes to `bulk_update`; 2.x fails too)",
        "update takes one Image",
        (Sub("app.inputs.update([", "app.inputs.bulk_update(["),),
    ),
    "002_14_inputs_check_status": Broken(
        PY2_PRINT,
        PRINT_ERROR,
        (
            Sub("print status.code", "print(status.code)"),
            Sub("print status.description", "print(status.description)"),
        ),
    ),
    "002_16_inputs_create_image_from_base64": Broken(
        "calls `create_image_bytes`, which 2.x does not have (the method is `create_image_from_base64`)",
        "has no attribute 'create_image_bytes'",
        (Sub("create_image_bytes(base64_bytes=", "create_image_from_base64(base64_bytes="),),
    ),
    "002_17_inputs_create_image_from_bytes": Broken(
        "calls `create_image_bytes`, which 2.x does not have (the method is `create_image_from_bytes`)",
        "has no attribute 'create_image_bytes'",
        (Sub("create_image_bytes(img_bytes=", "create_image_from_bytes(img_bytes="),),
    ),
    "002_18_inputs_create_image_from_filename": Broken(
        "calls `create_image_filename`, which 2.x does not have (the method is `create_image_from_filename`)",
        "has no attribute 'create_image_filename'",
        (Sub("create_image_filename(", "create_image_from_filename("),),
    ),
    "002_19_inputs_create_image_from_url": Broken(
        "the second call misses its closing parenthesis",
        "SyntaxError",
        (Sub("GeoPoint(22.22, 44.44))", "GeoPoint(22.22, 44.44)))"),),
    ),
    "002_20_inputs_delete": Broken(PY2_PRINT, PRINT_ERROR, (Sub("print ret.code", "print(ret.code)"),)),
    "002_21_inputs_get": Broken(
        PY2_PRINT, PRINT_ERROR, (Sub("print image.input_id", "print(image.input_id)"),)
    ),
    "002_22_inputs_get_all": Broken(
        PY2_PRINT, PRINT_ERROR, (Sub("print image.input_id", "print(image.input_id)"),)
    ),
    "002_23_inputs_get_by_page": Broken(
        PY2_PRINT, PRINT_ERROR, (Sub("print image.input_id", "print(image.input_id)"),)
    ),
    "002_28_inputs_search_by_image": Broken(
        "opens the image in text mode, `open('file')`: Python 3 reads it as text (it needs 'rb')",
        "UnicodeDecodeError",
        (Sub("open('file')", "open('file', 'rb')"),),
    ),
    "002_33_models_create": Broken(
        CLOSED_ENVIRONMENT,
        "closed_environment is not supported",
        (Sub("app.models.create('my_model3', closed_environment=True)", "app.models.create('my_model3')"),),
    ),
    "002_34_models_delete": Broken(
        "runs its two alternatives in a row: the second deletes a version of the model the first deleted",
        "model 'model_id1' does not exist",
        (
            Sub("# delete a model\napp.models.delete('model_id1')\n", ""),
            Append("app.models.delete('model_id1')\n"),
        ),
    ),
    "002_37_models_get_all": Broken(
        PY2_PRINT, PRINT_ERROR, (Sub("print model.model_name", "print(model.model_name)"),)
    ),
    "002_38_models_get_by_page": Broken(
        "passes the page and page size positionally, into `public_only` and `private_only` (the "
        "signature is `get_by_page(public_only=False, private_only=False, page=1, per_page=20)`)",
        "pass public_only=True or private_only=True, not both",
        (Sub("get_by_page(2, 20)", "get_by_page(page=2, per_page=20)"),),
    ),
    "002_40_model_add_concepts": Broken(SELF_APP, SELF_ERROR, (SELF_REPAIR,)),
    "002_41_model_delete_concepts": Broken(SELF_APP, SELF_ERROR, (SELF_REPAIR,)),
    "002_42_model_delete_version": Broken(SELF_APP, SELF_ERROR, (SELF_REPAIR,)),
    "002_45_model_get_version": Broken(SELF_APP, SELF_ERROR, (SELF_REPAIR,)),
    "002_46_model_list_versions": Broken(SELF_APP, SELF_ERROR, (SELF_REPAIR,)),
    "002_47_model_update": Broken(
        f"{SELF_APP}; {CLOSED_ENVIRONMENT}",
        SELF_ERROR,
        (SELF_REPAIR, Sub("model.update(closed_environment=True)\n", "")),
    ),
    "003_02_sync_client": Broken(
        "imports `DecthingsClientSync` but constructs `DecthingsClient`",
        "NameError: name 'DecthingsClient' is not defined",
        (Sub("client = DecthingsClient(", "client = DecthingsClientSync("),),
    ),
    "003_03_async_example": Broken(
        f'{LOST_INDENT} (the body of `main`); `DecthingsTensor([], "i32", [])` has no element for '
        "its scalar shape (decthings-api 0.0.4 raises ValueError too; the sync example has `[7]`)",
        "IndentationError",
        (Indent(6, 22), Sub('DecthingsTensor([], "i32", [])', 'DecthingsTensor([7], "i32", [])')),
    ),
    "003_04_sync_example": Broken(
        f"{LOST_INDENT} (the body of `main`); `await` in a plain `def` is a SyntaxError",
        "IndentationError",
        (Indent(5, 21), Sub("await ", "")),
    ),
}

# Examples that need SDK methods another change is adding: "needs <method> (being added)".
PENDING: dict[str, str] = {}


# --- running ------------------------------------------------------------------------------------


class CannotRunAsWritten(Exception):
    """The example failed as CANNOT_RUN says it does."""


@pytest.fixture(scope="module")
def web() -> Iterator[WebServer]:
    server = WebServer(WEB_FILES)
    yield server
    server.close()


def _values(emulator: Emulator, web: WebServer, app_id: str) -> dict[str, str]:
    return {
        "key": emulator.api_key,
        "user": emulator.user_id,
        "app": app_id,
        "host": emulator.host,
        "port": str(emulator.port),
        "web": web.url,
        "files": emulator.files_url,
        "runner": f"{app_id}-runner",
        "png_b64": base64.b64encode(PNG).decode(),
    }


@pytest.fixture
def run_example(
    emulator: Emulator, web: WebServer, images: dict[str, bytes], tmp_path: Path
) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    made: list[Ctx] = []

    def run(name: str, repairs: tuple[Repair, ...] = ()) -> subprocess.CompletedProcess[str]:
        example = EXAMPLES[name]
        plan = PLANS[name]
        app_id = f"s{name[:3]}-{name[4:6]}-{uuid.uuid4().hex[:6]}"
        cwd = tmp_path / f"run-{len(made)}"
        cwd.mkdir()
        ctx = Ctx(example, emulator, cwd, web, images["blocked"], app_id, _values(emulator, web, app_id))
        made.append(ctx)
        clarifai = example.seed in ("001", "002")
        if clarifai and plan.app:
            ctx.user.create_app(app_id)
        if clarifai:
            ctx.cleanup.append(lambda: _delete_app(ctx))
        _write_files(ctx)
        for step in plan.setup:
            step(ctx)
        env = {k: v for k, v in os.environ.items() if not k.startswith(PROVIDER_ENV)}
        env.update(emulator.client_env())
        for name_ in plan.env_drop:
            env.pop(name_, None)
        if example.is_shell:  # the doc's next snippet runs in the shell the example prepared
            follow = "000_02_create_from_env"
            (cwd / "next.py").write_text(build_script(EXAMPLES[follow], PLANS[follow], ctx.values))
            script = build_script(example, plan, ctx.values, repairs) + f'\nexec "{sys.executable}" next.py\n'
            command = ["bash", "-c", script]
        else:
            filled = _with_fills(example, plan)
            (cwd / "example.py").write_text(build_script(example, filled, ctx.values, repairs))
            command = [sys.executable, "example.py"]
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=110)
        if done.returncode == 0:
            for text in plan.expect:
                assert text in done.stdout, f"{name}: expected {text!r} in its output:\n{done.stdout[-3000:]}"
            for check in plan.verify:
                check(ctx)
        return done

    yield run
    for ctx in made:
        ctx.close()


def _delete_app(ctx: Ctx) -> None:
    if any(app.id == ctx.app_id for app in ctx.user.list_apps()):
        ctx.user.delete_app(ctx.app_id)


def _with_fills(example: Example, plan: Plan) -> Plan:
    if example.seed not in ("001", "002"):
        return plan
    return replace(plan, fills=CLARIFAI_FILLS + plan.fills)


def _params() -> list[Any]:
    params = []
    for name in EXAMPLES:
        marks = []
        if name in CANNOT_RUN:
            marks.append(
                pytest.mark.xfail(reason=CANNOT_RUN[name].reason, strict=True, raises=CannotRunAsWritten)
            )
        elif name in PENDING:
            marks.append(pytest.mark.xfail(reason=PENDING[name], strict=False))
        params.append(pytest.param(name, marks=marks, id=name))
    return params


@pytest.mark.parametrize("name", _params())
def test_seed_example_runs_as_written(name: str, run_example: Callable[..., Any]) -> None:
    done = run_example(name)
    broken = CANNOT_RUN.get(name)
    if broken is not None and done.returncode != 0 and broken.error in done.stderr:
        raise CannotRunAsWritten(done.stderr.strip().splitlines()[-1])
    assert done.returncode == 0, f"{name} failed:\n{done.stderr[-4000:]}"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=[pytest.mark.xfail(reason=PENDING[n], strict=False)] if n in PENDING else [])
        for n, b in CANNOT_RUN.items()
        if b.repairs
    ],
)
def test_seed_example_runs_repaired(name: str, run_example: Callable[..., Any]) -> None:
    """What the example means runs, once the doc's own mistakes listed in CANNOT_RUN are repaired."""
    done = run_example(name, CANNOT_RUN[name].repairs)
    assert done.returncode == 0, f"{name} (repaired) failed:\n{done.stderr[-4000:]}"


def test_every_example_has_a_plan() -> None:
    assert sorted(PLANS) == sorted(EXAMPLES)
    assert set(CANNOT_RUN) <= set(EXAMPLES) and set(PENDING) <= set(EXAMPLES)
    assert not set(CANNOT_RUN) & set(PENDING)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_seed_import_resolves_after_the_rewrite(name: str) -> None:
    """Each import line of the example, rewritten, imports from modelwire what the doc imports."""
    example = EXAMPLES[name]
    code = doctest_source(example.body) if example.is_doctest else example.body
    imports = [line for line in code.splitlines() if line.startswith(("from ", "import "))]
    for line in imports:
        rewritten = rewrite_imports(line)
        assert rewritten.split()[1].startswith(("modelwire.", "asyncio")), rewritten
        exec(rewritten, {})  # ImportError if the path or a name is missing


def test_copies_match_the_seeds() -> None:
    """Each copy is the seed's text at the lines its header names (when the seeds are at hand)."""
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"the seeds are not at {SEEDS_DIR} (set MODELWIRE_SEEDS_DIR)")
    seeds = {path.name: path.read_text(encoding="utf-8").split("\n") for path in SEEDS_DIR.glob("*.txt")}
    for example in EXAMPLES.values():
        lines = seeds[example.seed_file]
        expected = "\n".join(lines[n - 1] for n in example.seed_lines) + "\n"
        assert example.body == expected, f"{example.path.name} differs from {example.seed_file}"
