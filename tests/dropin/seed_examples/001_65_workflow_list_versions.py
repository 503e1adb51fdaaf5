# seed: 001_cebb3c8512ab503e.txt lines 1774-1776
# Clarifai Python SDK API reference (clarifai): Workflow.list_versions()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.workflow import Workflow
workflow = Workflow(user_id='user_id', app_id='app_id', workflow_id='workflow_id')
workflow_versions = workflow.list_versions()
