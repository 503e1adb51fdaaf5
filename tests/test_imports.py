"""What importing each provider loads (issue 14, target 7: import time), checked deterministically
in fresh interpreters: no timings here (the bench measures those; see /tmp/import_time.py's
successor), only which modules are and are not loaded, and that every name that was public before
the imports were made lazy still resolves."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# The public names (`__all__`) of each package before the lazy imports; none may go missing.
PUBLIC_NAMES: dict[str, list[str]] = {
    "modelwire": ["ApiError", "ConfigurationError", "ModelwireError", "UsageError", "__version__"],
    "modelwire.clarifai": [
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
        "NO_RETRY",
        "RetryPolicy",
        "Runner",
        "Search",
        "UploadSummary",
        "User",
        "UserError",
        "Workflow",
    ],
    "modelwire.decthings": [
        "BadCredentialsError",
        "ClientClosedError",
        "DecthingsApiError",
        "DecthingsClient",
        "DecthingsClientSync",
        "DecthingsElement",
        "DecthingsElementAudio",
        "DecthingsElementImage",
        "DecthingsElementVideo",
        "DecthingsEvent",
        "DecthingsHttpError",
        "DecthingsNotFoundError",
        "DecthingsTensor",
        "DecthingsTensorError",
        "DecthingsTensorType",
        "DecthingsUsageError",
        "IncorrectVersionIdError",
        "InvalidParameterError",
        "MAX_VARINT",
        "ServerOverloadedError",
        "TensorFormatError",
        "TooManyRequestsError",
        "VarintError",
        "decode_varint",
        "encode_varint",
        "serialize_many",
        "varint_size",
    ],
}
# Submodules `import modelwire.clarifai` used to load, so code could read them as attributes.
CLARIFAI_SUBMODULE_ATTRIBUTES = [
    "app",
    "dataset",
    "errors",
    "inputs",
    "lister",
    "model",
    "module",
    "runner",
    "search",
    "user",
    "workflow",
]
# Loaded on first use, not by `import modelwire.clarifai`.
CLARIFAI_LAZY_MODULES = [
    "modelwire.clarifai.dataset",  # Dataset, ClarifaiDataLoader, Features (zipfile, hashlib)
    "modelwire.clarifai.inputs",  # Inputs, UploadSummary (csv, hashlib)
    "modelwire.clarifai.search",  # Search
    "modelwire.clarifai._download",  # urllib.request / http.client
    "modelwire.clarifai.legacy",  # the clarifai 2.x REST client
    "yaml",  # only for params / workflow YAML files
    "uuid",  # only for App.create_workflow(generate_new_id=True)
    "importlib.metadata",  # the version is read from the dist-info directly
]


def _loaded_after(code: str, probe: list[str]) -> dict[str, bool]:
    """Run `code` in a fresh interpreter; which of `probe` (module names, or a prefix ending in
    '.') are then in sys.modules."""
    script = (
        f"import sys, json\n{code}\n"
        "mods = set(sys.modules)\n"
        "print(json.dumps({p: any(m == p.rstrip('.') or m.startswith(p) for m in mods) "
        f"for p in {probe!r}}}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    result: dict[str, bool] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("module", ["modelwire", "modelwire.decthings"])
def test_import_does_not_load_grpc(module: str) -> None:
    # Decthings is HTTP; its errors are keyed on the grpc-free RpcCode.
    loaded = _loaded_after(f"import {module}", ["grpc", "grpc."])
    assert loaded == {"grpc": False, "grpc.": False}


def test_decthings_errors_are_built_and_read_without_grpc() -> None:
    code = (
        "from modelwire.decthings import errors\n"
        "e = errors.api_error({'code': 'model_not_found'}, api='Model', method_name='getModel')\n"
        "h = errors.http_error(503, 'busy', method='Model.getModel', retry_after='2')\n"
        "assert e.rpc_code.name == 'NOT_FOUND' and h.rpc_code.name == 'UNAVAILABLE', (e, h)\n"
        "assert h.retry_delay == 2.0 and 'NOT_FOUND' in str(e)\n"
        "from modelwire._core.errors import NotFoundError, UnavailableError\n"
        "assert isinstance(e, NotFoundError) and isinstance(h, UnavailableError)\n"
    )
    assert _loaded_after(code, ["grpc"]) == {"grpc": False}


def test_reading_code_of_an_http_error_still_gives_a_grpc_status_code() -> None:
    code = (
        "from modelwire.decthings import errors\n"
        "e = errors.api_error({'code': 'bad_credentials'}, api='Model', method_name='getModel')\n"
        "import grpc\n"
        "assert e.code is grpc.StatusCode.UNAUTHENTICATED, e.code\n"
    )
    assert _loaded_after(code, ["grpc"]) == {"grpc": True}


def test_import_clarifai_leaves_the_lazy_modules_unloaded() -> None:
    loaded = _loaded_after("import modelwire.clarifai", CLARIFAI_LAZY_MODULES)
    assert [m for m, is_loaded in loaded.items() if is_loaded] == []


def test_lazy_clarifai_names_load_their_module_on_first_use() -> None:
    code = (
        "import modelwire.clarifai as c\n"
        "assert 'modelwire.clarifai.dataset' not in sys.modules\n"
        "from modelwire.clarifai import Dataset\n"
        "from modelwire.clarifai.dataset import Dataset as D2\n"
        "assert Dataset is D2 and c.Dataset is D2\n"
    )
    loaded = _loaded_after(code, ["modelwire.clarifai.dataset", "modelwire.clarifai.inputs"])
    assert loaded == {"modelwire.clarifai.dataset": True, "modelwire.clarifai.inputs": True}


def test_every_clarifai_name_loads_without_download_or_yaml_machinery() -> None:
    # Even `import *` (every lazy name) defers what only a download or a YAML file needs.
    loaded = _loaded_after(
        "from modelwire.clarifai import *", ["modelwire.clarifai._download", "yaml", "http.client"]
    )
    assert loaded == {"modelwire.clarifai._download": False, "yaml": False, "http.client": False}


@pytest.mark.parametrize("package", sorted(PUBLIC_NAMES))
def test_every_previously_public_name_still_resolves(package: str) -> None:
    names = PUBLIC_NAMES[package]
    code = (
        f"import {package} as pkg\n"
        f"names = {names!r}\n"
        "assert set(names) <= set(pkg.__all__), set(names) - set(pkg.__all__)\n"
        "assert set(names) <= set(dir(pkg)), set(names) - set(dir(pkg))\n"
        "star = {}\n"
        f"exec('from {package} import *', star)\n"
        "missing = [n for n in names if n not in star and n != '__version__']\n"
        "assert not missing, missing\n"
        "for n in names:\n"
        f"    exec(f'from {package} import {{n}}', {{}})\n"
        "    assert getattr(pkg, n) is not None, n\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_clarifai_submodules_are_still_attributes_of_the_package() -> None:
    code = (
        "import types, modelwire.clarifai as c\n"
        f"for name in {CLARIFAI_SUBMODULE_ATTRIBUTES!r}:\n"
        "    assert isinstance(getattr(c, name), types.ModuleType), name\n"
        "    assert name in dir(c), name\n"
        "from modelwire.clarifai import search as s, inputs as i, input as i2\n"
        "assert s.Search is c.Search and i2.Inputs is i.Inputs\n"
        "try:\n"
        "    c.NoSuchName\n"
        "except AttributeError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('unknown names must raise AttributeError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_version_read_from_the_dist_info_matches_importlib_metadata() -> None:
    from importlib.metadata import version

    from modelwire import __version__

    assert __version__ == version("modelwire")
