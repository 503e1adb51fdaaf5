# seed: 003_a8bf16ac3e86df43.txt lines 5-6
# Decthings Python API client (decthings-api): Installation
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from decthings_api.client import DecthingsClient
client = DecthingsClient(api_key="<myapikey>")
