# seed: 001_cebb3c8512ab503e.txt lines 1850-1852
# Clarifai Python SDK API reference (clarifai): Workflow.export()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.workflow import Workflow
workflow = Workflow("https://clarifai.com/clarifai/main/workflows/Demographics")
workflow.export('out_path.yml')
