# seed: 003_a8bf16ac3e86df43.txt lines 19-41
# Decthings Python API client (decthings-api): Async example
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
import asyncio
from decthings_api.client import DecthingsClient
from decthings_api.tensor import DecthingsTensor
client = DecthingsClient(api_key="<myapikey>")
async def main():
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
"data": [DecthingsTensor([], "i32", [])]
}
]
})
asyncio.run(main())
