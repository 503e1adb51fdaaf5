# seed: 000_ccc697f07eb65b50.txt lines 35-39
# Clavata SDK for Python (clavata-sdk): Webhooks
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clavata_sdk import ClavataClient, CreateJobRequest
client = ClavataClient.create()
request = CreateJobRequest(content="The quick brown fox", ...).add_webhook(url="https://youdomain.com/path/to/hook")
job = client.create_job(request)
print(job)
