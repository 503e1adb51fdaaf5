"""The Decthings docs' async example with only the imports changed (and the placeholders filled in).

    modelwire serve --http-port 8080 --api-key dev-key      # or any running emulator
    export DECTHINGS_API_KEY=dev-key DECTHINGS_HTTP_URL=http://127.0.0.1:8080/v0
    python examples/decthings_quickstart_async.py

This uses the recommended raising client (`modelwire.decthings`); the mechanical rewrite
(`decthings_api.client` -> `modelwire.decthings.client`) gives 0.0.4's `(result, error)` shape
instead, see the README's migration section. Differences from the published client: each call
returns its result (an API error raises a typed exception instead of coming back as the second
item of a tuple), and the docs' async snippet builds
`DecthingsTensor([], "i32", [])`, a scalar with no value, which is an error in both clients (shape
[] holds exactly one element); the sync snippet's `[7]` is used instead.
"""

import asyncio  # noqa: I001 (one import per replaced line, as in the docs)
import os

from modelwire.decthings import DecthingsClient  # 0.0.4: from decthings_api.client import DecthingsClient
from modelwire.decthings import DecthingsTensor  # 0.0.4: from decthings_api.tensor import DecthingsTensor

client = DecthingsClient(api_key=os.environ["DECTHINGS_API_KEY"])


async def make_dataset() -> str:
    """A dataset with one i32 key for the snippet to add to (the docs assume one exists)."""
    created = await client.dataset.create_dataset(
        {
            "name": f"quickstart-async-{os.urandom(3).hex()}",
            "description": "entries added by the docs' example",
            "keys": [{"name": "value", "rules": {"shape": [], "allowedTypes": ["i32"]}}],
        }
    )
    return created["datasetId"]


async def main():
    dataset_id = await make_dataset()

    # fmt: off
    get_models_result = await client.model.get_models({})
    evaluate_result = await client.model.evaluate({
        "modelId": "decthings-text-embedder",
        "params": [{
            "name": "input",
            "data": [DecthingsTensor(["My input text"], "string", [])]
        }]
    })
    add_entries_result = await client.dataset.add_entries({
        "datasetId": dataset_id,
        "keys": [
            {
                "key": "value",
                "data": [DecthingsTensor([7], "i32", [])]
            }
        ]
    })
    # fmt: on

    print("models:", [m["id"] for m in get_models_result["models"]])
    embedding = evaluate_result["success"]["output"][0]["data"][0]
    print("embedding:", embedding.type(), embedding.shape(), embedding.numpy()[:4])
    print("new dataset version:", add_entries_result["newDatasetVersionId"])
    await client.aclose()


asyncio.run(main())
