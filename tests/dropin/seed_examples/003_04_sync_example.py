# seed: 003_a8bf16ac3e86df43.txt lines 43-64
# Decthings Python API client (decthings-api): Sync example
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from decthings_api.client_sync import DecthingsClientSync
from decthings_api.tensor import DecthingsTensor
client = DecthingsClientSync(api_key="<myapikey>")
def main():
get_models_result = await client.model.get_models({})
evaluate_result = await client.model.evaluate({
"modelId": "<modelid>",
"params": [{
"name": "<parameter>",
"data": [DecthingsTensor(["My input text"], "string", [])]
}]
})
add_entries_result = await client.dataset.add_entries({
"datasetId": "<datasetid>",
"keys": [
{
"key": "<key>",
"data": [DecthingsTensor([7], "i32", [])]
}
]
})
main()
