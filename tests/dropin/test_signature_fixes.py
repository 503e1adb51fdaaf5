"""The signature fixes test_signatures.py asked for, at work: each published spelling binds and
does what it says, or is refused with a message that says what to do instead."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from modelwire.clarifai import Dataset, Model, Search, Workflow
from modelwire.clarifai.errors import UserError
from modelwire.clarifai.module import Module
from modelwire.clavata import AsyncClavataClient, ClavataClient, ContentData
from modelwire.decthings import DecthingsClientSync, DecthingsUsageError

NOWHERE = "http://127.0.0.1:1"  # nothing is sent in these tests; constructing connects to nothing


@pytest.mark.parametrize("cls", [ClavataClient, AsyncClavataClient])
def test_clavata_clients_show_and_take_the_published_keywords(cls: type[Any]) -> None:
    published = ("host", "port", "auth_token", "secure")
    params = inspect.signature(cls).parameters
    assert all(params[name].kind is inspect.Parameter.KEYWORD_ONLY for name in published)
    client = cls(host="127.0.0.1", port=1, auth_token="k", secure=False)
    assert client.endpoint.target == "127.0.0.1:1" and not client.endpoint.secure
    if cls is ClavataClient:
        client.close()


def test_content_data_takes_metadata_fourth_as_published() -> None:
    item = ContentData("some text", None, None, {"row": "7"})
    assert item.metadata == {"row": "7"} and item.video is None
    assert item.to_proto().metadata["row"] == "7"


class _Sent:
    """Stands in for Model._request: records the PostEvaluations request it is given."""

    def __init__(self) -> None:
        self.metrics: Any = None

    def __call__(self, name: str, **fields: Any) -> Any:
        assert name == "PostEvaluations"
        self.metrics = fields["eval_metrics"][0]
        return type("Response", (), {"eval_metrics": [self.metrics]})()


def _model(monkeypatch: pytest.MonkeyPatch) -> tuple[Model, _Sent]:
    model = Model(
        user_id="me", app_id="mine", model_id="m", model_version={"id": "v1"}, pat="p", base_url=NOWHERE
    )
    sent = _Sent()
    monkeypatch.setattr(model, "_request", sent)
    return model, sent


def test_model_evaluate_takes_a_dataset_and_its_version(monkeypatch: pytest.MonkeyPatch) -> None:
    model, sent = _model(monkeypatch)
    dataset = Dataset(
        user_id="them", app_id="theirs", dataset_id="gold", dataset_version_id="dv", pat="p", base_url=NOWHERE
    )
    model.evaluate(dataset=dataset, eval_id="e1")
    truth = sent.metrics.ground_truth_dataset
    assert (truth.id, truth.app_id, truth.user_id, truth.version.id) == ("gold", "theirs", "them", "dv")
    assert sent.metrics.id == "e1" and sent.metrics.model.model_version.id == "v1"

    model.evaluate("gold", dataset_version_id="dv2")  # the seed's positional order, 12.5.0's keyword
    truth = sent.metrics.ground_truth_dataset
    assert (truth.id, truth.app_id, truth.user_id, truth.version.id) == ("gold", "mine", "me", "dv2")

    with pytest.raises(UserError, match="dataset= or dataset_id"):
        model.evaluate("other", dataset=dataset)
    with pytest.raises(UserError, match="dataset_version_id needs dataset_id"):
        model.evaluate(dataset_version_id="dv")


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda **kw: Model(model_id="m", **kw), "root_certificates_path"),
        (lambda **kw: Model(model_id="m", **kw), "deployment_id"),
        (lambda **kw: Model(model_id="m", **kw), "compute_cluster_id"),
        (lambda **kw: Workflow(workflow_id="w", **kw), "root_certificates_path"),
        (lambda **kw: Module(module_id="x", **kw), "root_certificates_path"),
        (lambda **kw: Search(**kw), "root_certificates_path"),
    ],
)
def test_published_arguments_we_do_not_offer_are_refused_with_the_way_out(make: Any, argument: str) -> None:
    with pytest.raises(UserError, match=rf"\({argument}=\.\.\.\) is not supported: .*(GRPC_DEFAULT|compute)"):
        make(user_id="me", app_id="mine", pat="p", base_url=NOWHERE, **{argument: "x"})


def test_legacy_model_takes_solutions_positionally_and_refuses_a_value() -> None:
    from modelwire.clarifai.legacy import ClarifaiApp
    from modelwire.clarifai.legacy import Model as LegacyModel

    app = ClarifaiApp(app_id="mine", user_id="me", api_key="p", base_url=NOWHERE)
    assert LegacyModel(app.api, None, "m", None).model_id == "m"
    with pytest.raises(UserError, match="Solutions"):
        LegacyModel(app.api, None, "m", object())
    app.close()


def test_decthings_on_event_takes_cb_and_the_old_callback_keyword() -> None:
    client = DecthingsClientSync(api_key="k", http_server_address=NOWHERE)
    try:
        seen: list[Any] = []
        remove = client.on_event(cb=seen.append)
        remove()
        client.on_event(callback=seen.append)()
        with pytest.raises(DecthingsUsageError, match="one listener"):
            client.on_event()
        with pytest.raises(DecthingsUsageError, match="one listener"):
            client.on_event(seen.append, callback=seen.append)
    finally:
        client.close()
