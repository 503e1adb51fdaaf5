"""Clarifai: apps, datasets, inputs, search, models, workflows, modules and runners over the V2 API.

    from modelwire.clarifai import User

    app = User(user_id="me", pat="...").app("my-app")      # or env CLARIFAI_PAT / CLARIFAI_USER_ID
    for page in app.search(top_k=5).query(ranks=[{"text_raw": "a cat on a sofa"}]):
        for hit in page.hits:
            print(hit.score, hit.input.id)

Point it at the emulator with `base_url="http://127.0.0.1:<port>"` (or CLARIFAI_API_BASE).
Code written for the published SDK runs with its imports rewritten: `clarifai.client.<module>`
becomes `modelwire.clarifai.<module>` (user, app, dataset, input, model, workflow, module, search)
and `clarifai.errors` becomes `modelwire.clarifai.errors`.
"""

from modelwire._core.batching import Chunker
from modelwire._core.retry import NO_RETRY, RetryPolicy
from modelwire.clarifai.app import App
from modelwire.clarifai.dataset import ClarifaiDataLoader, Dataset, Features
from modelwire.clarifai.errors import ApiClientError, ApiError, UserError
from modelwire.clarifai.inputs import Inputs, UploadSummary
from modelwire.clarifai.lister import Lister
from modelwire.clarifai.model import Model
from modelwire.clarifai.module import Module
from modelwire.clarifai.runner import Runner
from modelwire.clarifai.search import Search
from modelwire.clarifai.user import User
from modelwire.clarifai.workflow import Workflow

__all__ = [
    "NO_RETRY",
    "ApiClientError",
    "ApiError",
    "App",
    "Chunker",
    "ClarifaiDataLoader",
    "Dataset",
    "Features",
    "Inputs",
    "Lister",
    "Model",
    "Module",
    "RetryPolicy",
    "Runner",
    "Search",
    "UploadSummary",
    "User",
    "UserError",
    "Workflow",
]
