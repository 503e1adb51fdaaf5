# seed: 003_a8bf16ac3e86df43.txt lines 13-14
# Decthings Python API client (decthings-api): Synchronous client
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from decthings_api.client_sync import DecthingsClientSync
client = DecthingsClient(api_key="<myapikey>")
