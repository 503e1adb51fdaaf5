# seed: 000_ccc697f07eb65b50.txt lines 26-31
# Clavata SDK for Python (clavata-sdk): Basic Use
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clavata_sdk import CreateJobRequest, EvaluateRequest, ContentData
# Async request
response = client.create_job(CreateJobRequest(content=ContentData(...), ...))
# Streaming request
async for response in client.evaluate(EvaluateRequest(content="The quick brown fox", ...)):
print(response)
