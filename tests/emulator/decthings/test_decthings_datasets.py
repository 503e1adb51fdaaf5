"""The Dataset API over HTTP: all 11 methods, the key rules, versions and the wire layouts."""

from __future__ import annotations

import uuid

from decthings_wire import Http, f32, key_def, make_dataset, text

from modelwire.decthings import DecthingsTensor

KEYS = [key_def("label", [], ["string"]), key_def("x", [-1, 2], ["f32", "f64"])]


def entry_blobs(*entries: tuple[str, list[float]]) -> list[bytes]:
    """Entry-major, key-sorted-minor ("label" < "x"), one serialized tensor per blob."""
    blobs = []
    for label, xs in entries:
        blobs.append(text(label).serialize())
        blobs.append(f32(xs, [len(xs) // 2, 2]).serialize())
    return blobs


async def dataset(http: Http, datasets_id: str) -> dict:  # type: ignore[type-arg]
    result, _ = await http.ok("Dataset", "getDatasets", {"filter": {"ids": [datasets_id]}})
    assert result["total"] == 1
    return dict(result["datasets"][0])


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def test_create_and_describe(http: Http, emu) -> None:  # type: ignore[no-untyped-def]
    name = unique("points")
    result, _ = await http.ok(
        "Dataset",
        "createDataset",
        {"name": name, "description": "d", "tags": [{"tag": "kind", "value": "toy"}], "keys": KEYS},
    )
    ds = await dataset(http, result["datasetId"])
    assert ds["id"] == result["datasetId"] and ds["versionId"] == result["datasetVersionId"]
    assert ds["name"] == name and ds["description"] == "d"
    assert ds["tags"] == [{"tag": "kind", "value": "toy"}]
    assert ds["owner"] == {"userId": emu.user_id, "username": emu.user_id}
    assert ds["access"] == "readwrite"
    assert ds["keys"][1] == {
        "name": "x",
        "required": True,
        "rules": {"shape": [-1, 2], "allowedTypes": ["f32", "f64"], "annotations": []},
    }
    assert (
        ds["entries"]
        == ds["needsReviewEntries"]
        == ds["entriesWaitingToBeDeleted"]
        == {
            "count": 0,
            "totalByteSize": 0,
        }
    )
    assert isinstance(ds["createdAt"], int) and ds["createdAt"] > 1_700_000_000_000

    error = await http.error("Dataset", "createDataset", {"name": name, "description": "", "keys": KEYS})
    assert error == {"code": "name_already_used"}
    error = await http.error(
        "Dataset",
        "createDataset",
        {"name": unique("bad"), "description": "", "keys": [key_def("a", [], ["f16"])]},
    )
    assert error["code"] == "invalid_parameter" and error["parameterName"] == "keys[0].rules.allowedTypes[0]"
    error = await http.error(
        "Dataset", "createDataset", {"name": unique("bad"), "description": "", "keys": []}
    )
    assert error["parameterName"] == "keys"


async def test_add_and_get_entries(http: Http) -> None:
    ds_id = await make_dataset(http, unique("entries"), KEYS)
    first_version = (await dataset(http, ds_id))["versionId"]
    blobs = entry_blobs(("a", [1, 2]), ("b", [3, 4, 5, 6]), ("c", [7, 8]))
    result, _ = await http.ok("Dataset", "addEntries", {"datasetId": ds_id, "keys": ["label", "x"]}, blobs)
    version = result["newDatasetVersionId"]
    assert version != first_version
    ds = await dataset(http, ds_id)
    assert ds["versionId"] == version
    assert ds["entries"] == {"count": 3, "totalByteSize": sum(map(len, blobs))}

    result, out = await http.ok("Dataset", "getEntries", {"datasetId": ds_id, "entries": [2, 0, 9]})
    assert result == {"keys": ["label", "x"], "indexes": [2, 0]}
    assert out == [blobs[4], blobs[5], blobs[0], blobs[1]]  # index-major, key-minor
    result, out = await http.ok(
        "Dataset", "getEntries", {"datasetId": ds_id, "entries": {"start": 1, "end": 10}}
    )
    assert result["indexes"] == [1, 2]
    assert DecthingsTensor.deserialize(out[1])[0] == f32([3, 4, 5, 6], [2, 2])

    stale = {"datasetId": ds_id, "keys": ["label", "x"], "datasetVersionId": first_version}
    assert await http.error("Dataset", "addEntries", stale, entry_blobs(("d", [0, 0]))) == {
        "code": "incorrect_version_id",
        "datasetVersionId": version,
    }
    current = {"datasetId": ds_id, "entries": [0], "datasetVersionId": version}
    await http.ok("Dataset", "getEntries", current)
    assert (await http.error("Dataset", "getEntries", {**current, "datasetVersionId": "x"}))["code"] == (
        "incorrect_version_id"
    )
    assert await http.error("Dataset", "getEntries", {"datasetId": "nope", "entries": []}) == {
        "code": "dataset_not_found",
        "datasetId": "nope",
    }


async def test_key_rules_are_enforced(http: Http) -> None:
    ds_id = await make_dataset(http, unique("rules"), KEYS)
    params = {"datasetId": ds_id, "keys": ["label", "x"]}

    async def reason(blobs: list[bytes], **over: object) -> str:
        error = await http.error("Dataset", "addEntries", {**params, **over}, blobs)
        assert error["code"] == "invalid_parameter", error
        return str(error["reason"])

    good = text("a").serialize()
    assert "type i32 is not allowed" in await reason(
        [good, DecthingsTensor([1, 2], "i32", [1, 2]).serialize()]
    )
    assert "shape [2] does not match [-1, 2]" in await reason([good, f32([1, 2]).serialize()])
    assert "shape [1, 3]" in await reason([good, f32([1, 2, 3], [1, 3]).serialize()])
    assert "exactly once" in await reason([good], keys=["label"])
    assert "exactly once" in await reason([good, good], keys=["label", "label"])
    assert "same number of tensors" in await reason([good, f32([1, 2], [1, 2]).serialize(), good])
    assert "exactly one tensor" in await reason([good, f32([1, 2], [1, 2]).serialize() * 2])
    assert "not a serialized DecthingsTensor" in await reason([good, b"\xff"])
    assert "no data" in await reason([])
    # f64 and any first dimension (-1) are fine, also zero rows.
    ok = [good, DecthingsTensor([0.5] * 6, "f64", [3, 2]).serialize(), good, f32([], [0, 2]).serialize()]
    await http.ok("Dataset", "addEntries", params, ok)
    assert (await dataset(http, ds_id))["entries"]["count"] == 2


async def test_remove_entries_renumbers(http: Http) -> None:
    ds_id = await make_dataset(http, unique("remove"), KEYS)
    blobs = entry_blobs(*[(str(i), [i, i]) for i in range(5)])
    await http.ok("Dataset", "addEntries", {"datasetId": ds_id, "keys": ["label", "x"]}, blobs)
    result, _ = await http.ok("Dataset", "removeEntries", {"datasetId": ds_id, "entries": [3, 1]})
    assert result["removedBytes"] == sum(map(len, blobs[2:4] + blobs[6:8]))
    assert result["newWaitingToRemoveBytes"] == result["newWaitingToRemoveAmount"] == 0
    got, out = await http.ok("Dataset", "getEntries", {"datasetId": ds_id, "entries": {"start": 0, "end": 5}})
    assert got["indexes"] == [0, 1, 2]
    assert [DecthingsTensor.deserialize(b)[0].item() for b in out[::2]] == ["0", "2", "4"]
    assert await http.error("Dataset", "removeEntries", {"datasetId": ds_id, "entries": [3]}) == {
        "code": "index_out_of_range"
    }


async def test_needs_review_flow(http: Http) -> None:
    ds_id = await make_dataset(http, unique("review"), KEYS)
    keys = ["label", "x"]
    review = entry_blobs(("r0", [0, 0]), ("r1", [1, 1]), ("r2", [2, 2]))
    v1, _ = await http.ok("Dataset", "addEntriesToNeedsReview", {"datasetId": ds_id, "keys": keys}, review)
    ds = await dataset(http, ds_id)
    assert ds["needsReviewEntries"]["count"] == 3 and ds["entries"]["count"] == 0
    got, out = await http.ok("Dataset", "getNeedsReviewEntries", {"datasetId": ds_id, "entries": [1]})
    assert got == {"keys": keys, "indexes": [1]} and out == review[2:4]

    fixed = entry_blobs(("fixed2", [20, 20]), ("fixed0", [0.5, 0.5]))
    v2, _ = await http.ok(
        "Dataset",
        "finalizeNeedsReviewEntries",
        {"datasetId": ds_id, "indexes": [2, 0], "keys": keys, "datasetVersionId": v1["newDatasetVersionId"]},
        fixed,
    )
    assert v2["removedBytesFromNeedsReview"] == sum(map(len, review[0:2] + review[4:6]))
    ds = await dataset(http, ds_id)
    assert ds["needsReviewEntries"]["count"] == 1 and ds["entries"]["count"] == 2
    assert ds["versionId"] == v2["newDatasetVersionId"]
    _, out = await http.ok("Dataset", "getEntries", {"datasetId": ds_id, "entries": [0, 1]})
    assert out == fixed
    _, out = await http.ok("Dataset", "getNeedsReviewEntries", {"datasetId": ds_id, "entries": [0]})
    assert out == review[2:4]  # r1 moved down to index 0

    bad = await http.error(
        "Dataset", "finalizeNeedsReviewEntries", {"datasetId": ds_id, "indexes": [0], "keys": keys}, fixed
    )
    assert bad["code"] == "invalid_parameter" and "1 tensors" in bad["reason"]
    out_of_range = {"datasetId": ds_id, "indexes": [5], "keys": keys}
    assert await http.error("Dataset", "finalizeNeedsReviewEntries", out_of_range, fixed[:2]) == {
        "code": "index_out_of_range"
    }
    removed, _ = await http.ok("Dataset", "removeNeedsReviewEntries", {"datasetId": ds_id, "entries": [0]})
    assert removed["removedBytes"] == sum(map(len, review[2:4]))
    assert (await dataset(http, ds_id))["needsReviewEntries"] == {"count": 0, "totalByteSize": 0}


async def test_get_datasets_filters_sorts_pages(http: Http, emu) -> None:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex
    names = [f"list-{tag}-{c}" for c in "bca"]
    ids = []
    for name in names:
        result, _ = await http.ok(
            "Dataset",
            "createDataset",
            {"name": name, "description": "", "keys": KEYS, "tags": [{"tag": "batch", "value": tag}]},
        )
        ids.append(result["datasetId"])
    flt = {"tags": [{"tag": "batch", "value": tag}]}
    result, _ = await http.ok("Dataset", "getDatasets", {"filter": flt})
    assert [d["id"] for d in result["datasets"]] == ids[::-1]  # newest first by default
    assert (result["total"], result["offset"], result["limit"]) == (3, 0, 20)
    result, _ = await http.ok(
        "Dataset", "getDatasets", {"filter": flt, "sort": "name", "limit": 2, "offset": 1}
    )
    assert [d["name"] for d in result["datasets"]] == [names[0], names[1]] and result["total"] == 3
    result, _ = await http.ok("Dataset", "getDatasets", {"filter": {"searchName": f"{tag}-A".upper()}})
    assert [d["name"] for d in result["datasets"]] == [names[2]]
    result, _ = await http.ok("Dataset", "getDatasets", {"filter": {**flt, "owners": ["someone-else"]}})
    assert result["total"] == 0
    result, _ = await http.ok("Dataset", "getDatasets", {"filter": {**flt, "owners": [emu.user_id]}})
    assert result["total"] == 3
    result, _ = await http.ok(
        "Dataset", "getDatasets", {"filter": {"names": [names[1]]}, "sortDirection": "asc"}
    )
    assert [d["id"] for d in result["datasets"]] == [ids[1]]
    assert (await http.error("Dataset", "getDatasets", {"sort": "size"}))["parameterName"] == "sort"
    assert (await http.error("Dataset", "getDatasets", {"limit": -1}))["parameterName"] == "limit"


async def test_update_and_delete(http: Http) -> None:
    ds_id = await make_dataset(http, unique("upd"), KEYS)
    other = unique("other")
    await make_dataset(http, other, KEYS)
    version = (await dataset(http, ds_id))["versionId"]
    new_name = unique("renamed")
    await http.ok(
        "Dataset",
        "updateDataset",
        {"datasetId": ds_id, "properties": {"name": new_name, "description": "new", "tags": []}},
    )
    ds = await dataset(http, ds_id)
    assert (ds["name"], ds["description"], ds["versionId"]) == (new_name, "new", version)
    assert await http.error(
        "Dataset", "updateDataset", {"datasetId": ds_id, "properties": {"name": other}}
    ) == {"code": "name_already_used"}
    await http.ok(
        "Dataset", "addEntries", {"datasetId": ds_id, "keys": ["label", "x"]}, entry_blobs(("a", [1, 2]))
    )
    await http.ok("Dataset", "deleteDataset", {"datasetId": ds_id})
    result, _ = await http.ok("Dataset", "getDatasets", {"filter": {"ids": [ds_id]}})
    assert result["total"] == 0
    assert await http.error("Dataset", "deleteDataset", {"datasetId": ds_id}) == {
        "code": "dataset_not_found",
        "datasetId": ds_id,
    }
