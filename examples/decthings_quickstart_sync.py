"""The Decthings docs' sync example with only the imports changed (and the placeholders filled in),
without the docs' stray `await`s, which are a syntax error in a plain function. It uses the
recommended raising client (`modelwire.decthings`); the mechanical rewrite (`decthings_api.client_sync`
-> `modelwire.decthings.client_sync`) keeps 0.0.4's `(result, error)` shape, see the README.

    export DECTHINGS_API_KEY=dev-key DECTHINGS_HTTP_URL=http://127.0.0.1:8080/v0
    python examples/decthings_quickstart_sync.py
"""

import os  # noqa: I001 (one import per replaced line, as in the docs)

from modelwire.decthings import DecthingsClientSync  # 0.0.4: from decthings_api.client_sync import ...
from modelwire.decthings import DecthingsTensor  # 0.0.4: from decthings_api.tensor import DecthingsTensor

client = DecthingsClientSync(api_key=os.environ["DECTHINGS_API_KEY"])

# A dataset with one i32 key for the snippet to add to (the docs assume one exists).
dataset_id = client.dataset.create_dataset(
    {
        "name": f"quickstart-sync-{os.urandom(3).hex()}",
        "description": "entries added by the docs' example",
        "keys": [{"name": "value", "rules": {"shape": [], "allowedTypes": ["i32"]}}],
    }
)["datasetId"]


def main():
    # fmt: off
    get_models_result = client.model.get_models({})
    evaluate_result = client.model.evaluate({
        "modelId": "decthings-text-embedder",
        "params": [{
            "name": "input",
            "data": [DecthingsTensor(["My input text"], "string", [])]
        }]
    })
    add_entries_result = client.dataset.add_entries({
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


main()
client.close()
