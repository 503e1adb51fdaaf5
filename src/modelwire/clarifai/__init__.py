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

from typing import TYPE_CHECKING, Any

from modelwire._core.batching import Chunker
from modelwire._core.retry import NO_RETRY, RetryPolicy
from modelwire.clarifai.app import App
from modelwire.clarifai.errors import ApiClientError, ApiError, UserError
from modelwire.clarifai.lister import Lister
from modelwire.clarifai.model import Model
from modelwire.clarifai.module import Module
from modelwire.clarifai.runner import Runner
from modelwire.clarifai.user import User
from modelwire.clarifai.workflow import Workflow

if TYPE_CHECKING:
    from modelwire.clarifai.dataset import ClarifaiDataLoader, Dataset, Features
    from modelwire.clarifai.inputs import Inputs, UploadSummary
    from modelwire.clarifai.search import Search

# Loaded on first use (PEP 562): the dataset and input modules bring archive, hashing, CSV and
# download machinery that `import modelwire.clarifai` should not pay for; an App reaches them
# through `app.dataset()`, `app.inputs()` and `app.search()`, which import them when called.
_LAZY = {
    "ClarifaiDataLoader": "modelwire.clarifai.dataset",
    "Dataset": "modelwire.clarifai.dataset",
    "Features": "modelwire.clarifai.dataset",
    "Inputs": "modelwire.clarifai.inputs",
    "UploadSummary": "modelwire.clarifai.inputs",
    "Search": "modelwire.clarifai.search",
}
# Submodules that used to be loaded (so readable as attributes) by `import modelwire.clarifai`.
_LAZY_SUBMODULES = frozenset({"dataset", "inputs", "search"})


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")  # the import binds it here too
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _LAZY_SUBMODULES)


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
