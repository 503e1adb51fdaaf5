# seed: 000_ccc697f07eb65b50.txt lines 17,19-21
# Clavata SDK for Python (clavata-sdk): Custom host/port (line 18 is prose between the code lines and is left out)
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clavata_sdk import ClavataClient
api_key = "YOUR_API_KEY"
# Now instantiate the client with your API key:
client = ClavataClient(host="gateway.app.clavata.ai", port=443, auth_token=api_key)
