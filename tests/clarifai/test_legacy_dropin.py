"""Code written for clarifai 2.x runs on `modelwire.clarifai.legacy` with only its imports changed:
`ClarifaiApp(api_key=...)` with an app's API key and nothing else, `app_secret` and `log_level`
accepted, 2.x's signatures and defaults (GeoLimit, search `raw=`, `sample_ms=`, ...).

The 2.x facts below were read from the published clarifai 2.6.2 and 2.2.3 packages with
`inspect.signature` (in a venv of their own, outside this repo).
"""

from __future__ import annotations

import base64
import inspect
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from legacy_helpers import BLUE, RED, legacy_fixture, png

from modelwire._core.errors import ConfigurationError
from modelwire._gen.clarifai.api import resources_pb2
from modelwire.clarifai import App
from modelwire.clarifai.legacy import (
    ApiError,
    ApiStatus,
    BoundingBox,
    ClarifaiApp,
    Geo,
    GeoLimit,
    GeoPoint,
    InputCounts,
    Inputs,
    InputSearchTerm,
    Model,
    Models,
    RegionInfo,
    SearchQueryBuilder,
    UserError,
)
from modelwire.emulator import Emulator

legacy = legacy_fixture()


def _total_calls(emulator: Emulator) -> int:
    return sum(emulator.calls.counts().values())


@pytest.fixture
def no_app_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLARIFAI_API_KEY", "CLARIFAI_PAT", "CLARIFAI_APP_ID", "CLARIFAI_USER_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app_key(emulator: Emulator, app: App) -> str:
    return emulator.clarifai.create_app_key(app.id)


@pytest.fixture
def keyed(no_app_env: None, app_key: str, base_url: str) -> Iterator[ClarifaiApp]:
    """The 2.x norm: a ClarifaiApp made from an app's API key alone."""
    with ClarifaiApp(api_key=app_key, base_url=base_url) as client:
        yield client


# -- an app's API key alone -------------------------------------------------------------------------


def test_an_app_key_alone_works_in_its_app(keyed: ClarifaiApp, app: App, emulator: Emulator) -> None:
    assert keyed.api.user_app_id == resources_pb2.UserAppIDSet()  # the server resolves the key's app
    assert "API key's app" in repr(keyed)
    keyed.concepts.create("kept")
    assert [c.id for c in app.list_concepts()] == ["kept"]  # seen through the PAT: the key's app
    keyed.inputs.create_image_from_bytes(png(RED), image_id="red", concepts=["kept"])
    assert keyed.inputs.get("red").concepts == ["kept"]
    made = keyed.models.create("mine", concepts=["kept"])
    assert (made.user_id, made.app_id) == (emulator.user_id, app.id)
    assert keyed.models.get("mine").model_id == "mine"  # by name: the name search and the cache
    assert keyed.models.get("mine").get_concept_ids() == ["kept"]
    assert keyed.models.get("general-v1.3").app_id == "main"  # public models stay reachable
    keyed.inputs.delete("red")  # on a modern Inputs derived for the key's app
    with app.inputs() as inputs:
        assert list(inputs.list_inputs()) == []


def test_an_app_key_alone_trains_and_predicts(keyed: ClarifaiApp, emulator: Emulator) -> None:
    delay = emulator.clarifai.train_delay
    emulator.clarifai.train_delay = 0.02
    try:
        for i in range(3):
            for name, colour in (("red", RED), ("blue", BLUE)):
                keyed.inputs.create_image_from_bytes(png(colour, size=16 + i), f"{name}-{i}", concepts=[name])
        keyed.wait_until_inputs_upload_finish(20)
        model = keyed.models.create("colours", concepts=["red", "blue"])
        assert model.train(timeout=30) is model and model.model_version  # waits on a derived Model
        predicted = model.predict_by_bytes(png(BLUE, size=20))
        assert predicted["outputs"][0]["data"]["concepts"][0]["id"] == "blue"
        created = model.create_version()
        assert created["status"]["code"] == 10000 and created["model"]["model_version"]["id"]
        assert model.evaluate()["status"]["code"] == 10000
    finally:
        emulator.clarifai.train_delay = delay


def test_construction_makes_no_request_and_a_wrong_key_fails_the_first_call(
    no_app_env: None, emulator: Emulator, base_url: str
) -> None:
    before = _total_calls(emulator)
    with ClarifaiApp(api_key="not-a-key-of-this-emulator", base_url=base_url) as client:
        assert _total_calls(emulator) == before
        with pytest.raises(ApiError) as failure:  # the legacy ApiError, as in 2.x
            client.concepts.get_by_page()
    assert failure.value.status_name.startswith("CONN_KEY")
    assert "not-a-key-of-this-emulator" not in str(failure.value)


def test_a_personal_access_token_alone_gets_the_apis_error(
    no_app_env: None, api_key: str, base_url: str
) -> None:
    with ClarifaiApp(api_key=api_key, base_url=base_url) as client, pytest.raises(ApiError) as failure:
        client.inputs.get_by_page()
    assert failure.value.status_name == "CONN_INVALID_REQUEST"
    assert "user_app_id" in str(failure.value) and "API key" in str(failure.value)


def test_the_key_alone_may_come_from_the_environment(
    no_app_env: None, app_key: str, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLARIFAI_API_KEY", app_key)
    monkeypatch.setenv("CLARIFAI_API_BASE", base_url)
    with ClarifaiApp() as client:
        assert client.auth.get_token() == app_key
        assert list(client.concepts.get_all()) == []


def test_a_user_id_without_an_app_is_refused(no_app_env: None, emulator: Emulator, base_url: str) -> None:
    before = _total_calls(emulator)
    with pytest.raises(UserError, match="user_id= goes with app_id="):
        ClarifaiApp(api_key="k", base_url=base_url, user_id="someone")
    assert _total_calls(emulator) == before


# -- app_secret and log_level --------------------------------------------------------------------------


def test_app_secret_is_ignored_with_a_deprecation_warning(
    no_app_env: None, app_key: str, api_key: str, app: App, emulator: Emulator, base_url: str
) -> None:
    with pytest.warns(DeprecationWarning, match="app_secret is ignored"):
        client = ClarifaiApp(app_secret="retired", api_key=app_key, base_url=base_url)
    with client:
        assert list(client.concepts.get_all()) == []
    # 2.2.3's positional form: app_id, app_secret (with a key for V2 and the app's owner).
    with pytest.warns(DeprecationWarning, match="app_secret"):
        client = ClarifaiApp(app.id, "retired", base_url, api_key, user_id=emulator.user_id)
    with client:
        assert client.api.id == app.id and list(client.inputs.get_all()) == []
    with (
        pytest.warns(DeprecationWarning, match="app_secret"),
        pytest.raises(ConfigurationError, match="API key"),
    ):
        ClarifaiApp(app.id, "retired", base_url)  # a secret is no key


def test_log_level_is_the_sixth_parameter_and_sets_our_logger(
    no_app_env: None, app_key: str, base_url: str
) -> None:
    logger = logging.getLogger("modelwire.clarifai")
    before = logger.level
    try:
        with ClarifaiApp(None, None, base_url, app_key, True, logging.WARNING):
            assert logger.level == logging.WARNING
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # quiet=False is accepted silently
            ClarifaiApp(api_key=app_key, base_url=base_url, quiet=False).close()
        with pytest.raises(UserError, match="log_level"):
            ClarifaiApp(api_key=app_key, base_url=base_url, log_level="LOUD")
    finally:
        logger.setLevel(before)


# -- signatures and defaults as in 2.x ------------------------------------------------------------------

# (class, method) -> 2.x's parameters after self, as (name, default); `...` marks "no default".
TWO_X_SIGNATURES: dict[tuple[type, str], list[tuple[str, Any]]] = {
    (ClarifaiApp, "__init__"): [
        ("app_id", None),
        ("app_secret", None),
        ("base_url", None),
        ("api_key", None),
        ("quiet", True),
        ("log_level", None),
    ],
    (Inputs, "add_concepts"): [("input_id", ...), ("concepts", None), ("not_concepts", None)],
    (Inputs, "merge_concepts"): [
        ("input_id", ...),
        ("concepts", None),
        ("not_concepts", None),
        ("overwrite", False),
    ],
    (Inputs, "search"): [("qb", ...), ("page", 1), ("per_page", 20), ("raw", False)],
    (Inputs, "search_by_metadata"): [("metadata", ...), ("page", 1), ("per_page", 20), ("raw", False)],
    (Inputs, "search_by_original_url"): [("url", ...), ("page", 1), ("per_page", 20), ("raw", False)],
    (Inputs, "search_by_geo"): [
        ("geo_point", None),
        ("geo_limit", None),
        ("geo_box", None),
        ("page", 1),
        ("per_page", 20),
        ("raw", False),
    ],
    (Models, "bulk_delete"): [("model_ids", ...)],
    (Model, "create_version"): [],
    (Model, "evaluate"): [],
    (Model, "dict"): [],
    (GeoLimit, "__init__"): [("limit_type", "mile"), ("limit_range", 10)],
    **{
        (Model, f"predict_by_{kind}"): [
            (first, ...),
            ("lang", None),
            ("is_video", False),
            ("min_value", None),
            ("max_concepts", None),
            ("select_concepts", None),
            ("sample_ms", None),
        ]
        for kind, first in (
            ("url", "url"),
            ("filename", "filename"),
            ("bytes", "raw_bytes"),
            ("base64", "base64_bytes"),
        )
    },
}
# The last parameters of the other search helpers: raw after page and per_page (lang first, if any).
SEARCH_TAILS = {
    "search_by_annotated_concepts": ["page", "per_page", "raw"],
    "search_by_image": ["page", "per_page", "raw"],
    "search_by_predicted_concepts": ["page", "per_page", "lang", "raw"],
}


@pytest.mark.parametrize(("owner", "method"), list(TWO_X_SIGNATURES), ids=lambda v: getattr(v, "__name__", v))
def test_signatures_are_2xs(owner: type, method: str) -> None:
    assert isinstance(inspect.getattr_static(owner, method), type(lambda: None))  # a plain method
    params = list(inspect.signature(getattr(owner, method)).parameters.values())[1:]
    positional = [p for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    ours = [(p.name, ... if p.default is inspect.Parameter.empty else p.default) for p in positional]
    # Our extra options are keyword-only, so 2.x's positional calls mean the same here.
    assert ours == TWO_X_SIGNATURES[(owner, method)]


@pytest.mark.parametrize("method", list(SEARCH_TAILS))
def test_every_search_helper_takes_raw_last(method: str) -> None:
    params = list(inspect.signature(getattr(Inputs, method)).parameters.values())
    assert [p.name for p in params[-len(SEARCH_TAILS[method]) :]] == SEARCH_TAILS[method]
    assert params[-1].default is False


def test_geo_limit_defaults_and_attributes_are_2xs() -> None:
    default = GeoLimit()
    assert (default.limit_type, default.limit_range) == ("withinMiles", 10.0)  # 2.x keeps the API's name
    assert default.dict() == {"geo_limit": {"type": "withinMiles", "value": 10.0}}
    assert GeoLimit("kilometer", 5).limit_type == "withinKilometers"
    assert GeoLimit.convert_table == {
        "mile": "withinMiles",
        "kilometer": "withinKilometers",
        "degree": "withinDegrees",
        "radian": "withinRadians",
    }


def test_region_parts_and_models_have_2xs_dict() -> None:
    box = BoundingBox(0.1, 0.2, 0.3, 0.4)
    assert box.dict() == {
        "bounding_box": {"top_row": 0.1, "left_col": 0.2, "bottom_row": 0.3, "right_col": 0.4}
    }
    assert RegionInfo(box, "misplaced").dict() == {"region_info": {**box.dict(), "feedback": "misplaced"}}
    assert RegionInfo().dict() == {"region_info": {}}


def test_statuses_and_counts_have_2xs_dict() -> None:
    assert ApiStatus(10000, "Ok").dict() == {"status": {"code": 10000, "description": "Ok"}}
    assert ApiStatus(30002, "Download failed", "404").dict()["status"]["details"] == "404"
    counts = InputCounts(processed=3, to_process=1, errors=2).dict()["counts"]
    assert (counts["processed"], counts["to_process"], counts["errors"]) == (3, 1, 2)


# -- the 2.x methods and arguments against the emulator -----------------------------------------------


def test_search_by_geo_defaults_to_ten_miles(legacy: ClarifaiApp) -> None:
    # 0.2 degrees of longitude at the equator is 13.8 miles: outside 2.x's default range.
    legacy.inputs.create_image_from_bytes(png(RED), "here", geo=Geo(geo_point=GeoPoint(0, 0)))
    legacy.inputs.create_image_from_bytes(png(BLUE), "near", geo=Geo(geo_point=GeoPoint(0.2, 0)))
    legacy.wait_until_inputs_upload_finish(20)
    assert [i.input_id for i in legacy.inputs.search_by_geo(GeoPoint(0, 0))] == ["here"]
    wider = legacy.inputs.search_by_geo(GeoPoint(0, 0), GeoLimit("mile", 20))
    assert sorted(i.input_id for i in wider) == ["here", "near"]


def test_raw_searches_return_the_response_json(legacy: ClarifaiApp, emulator: Emulator) -> None:
    legacy.inputs.create_image_from_bytes(png(RED), "red", concepts=["cat"], metadata={"kind": "swatch"})
    legacy.wait_until_inputs_upload_finish(20)
    qb = SearchQueryBuilder()
    qb.add_term(InputSearchTerm(concept="cat"))
    for raw in (
        legacy.inputs.search(qb, raw=True),
        legacy.inputs.search_by_annotated_concepts(concept="cat", raw=True),
        legacy.inputs.search_by_metadata({"kind": "swatch"}, 1, 20, True),
    ):
        assert isinstance(raw, dict) and raw["status"]["code"] == 10000
        assert [h["input"]["id"] for h in raw["hits"]] == ["red"] and raw["hits"][0]["score"] > 0
    nothing = legacy.inputs.search_by_annotated_concepts(concept="dog", raw=True)
    assert nothing["status"]["code"] == 10000 and not nothing.get("hits")  # JSON leaves out empty lists
    before = _total_calls(emulator)
    with pytest.raises(UserError):
        legacy.inputs.search(qb, page=0, raw=True)
    assert _total_calls(emulator) == before


def test_concepts_may_be_left_out_of_add_and_merge(legacy: ClarifaiApp) -> None:
    legacy.inputs.create_image_from_bytes(png(RED), "red", concepts=["cat"])
    legacy.inputs.add_concepts("red", not_concepts=["dog"])
    merged = legacy.inputs.merge_concepts("red", not_concepts=["bird"])
    assert merged.concepts == ["cat"] and sorted(merged.not_concepts) == ["bird", "dog"]


def test_predictions_take_sample_ms(legacy: ClarifaiApp, emulator: Emulator) -> None:
    general = legacy.models.get("general-v1.3")
    predicted = general.predict_by_base64(base64.b64encode(png(RED)), sample_ms=500)
    assert "red" in [c["id"] for c in predicted["outputs"][0]["data"]["concepts"][:3]]
    before = _total_calls(emulator)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(UserError, match="sample_ms"):
            general.predict_by_bytes(png(RED), sample_ms=bad)  # type: ignore[arg-type]
    assert _total_calls(emulator) == before


def test_bulk_delete_of_models(legacy: ClarifaiApp) -> None:
    for model_id in ("one", "two", "kept"):
        legacy.models.create(model_id)
    assert legacy.models.get("one").model_id == "one"  # now cached by name
    assert legacy.models.bulk_delete(["one", "two"])["status"]["code"] == 10000
    for gone in ("one", "two"):
        with pytest.raises(ApiError) as failure:
            legacy.models.get(gone)
        assert failure.value.status_name == "MODEL_DOES_NOT_EXIST"
    assert legacy.models.get("kept").model_id == "kept"
    with pytest.raises(UserError, match="model_ids"):
        legacy.models.bulk_delete("kept")  # type: ignore[arg-type]


def test_model_dict_and_evaluate_needs_a_version(legacy: ClarifaiApp, emulator: Emulator) -> None:
    model = legacy.models.create("birds", concepts=["bird"], concepts_mutually_exclusive=True)
    assert model.dict() == {
        "model": {
            "id": "birds",
            "name": "birds",
            "output_info": {
                "output_config": {"concepts_mutually_exclusive": True, "closed_environment": False},
                "data": {"concepts": [{"id": "bird"}]},
            },
        }
    }
    before = _total_calls(emulator)
    with pytest.raises(UserError, match="model_version"):
        model.evaluate()
    assert _total_calls(emulator) == before
