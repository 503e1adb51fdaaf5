"""The TypedDicts of every Decthings namespace, generated from protos/decthings.

from modelwire.decthings.types import dataset, model

params: model.EvaluateParams = {"modelId": "...", "params": [...]}
"""

from modelwire._gen.decthings.v0 import common_api as common
from modelwire._gen.decthings.v0 import errors_api as errors
from modelwire._gen.decthings.v0.dataset import dataset_api as dataset
from modelwire._gen.decthings.v0.debug import debug_api as debug
from modelwire._gen.decthings.v0.fs import fs_api as fs
from modelwire._gen.decthings.v0.language import language_api as language
from modelwire._gen.decthings.v0.model import model_api as model
from modelwire._gen.decthings.v0.persistent_launcher import persistent_launcher_api as persistent_launcher
from modelwire._gen.decthings.v0.spawned import spawned_api as spawned
from modelwire._gen.decthings.v0.team import team_api as team
from modelwire._gen.decthings.v0.terminal import terminal_api as terminal
from modelwire._gen.decthings.v0.user import user_api as user

__all__ = [
    "common",
    "dataset",
    "debug",
    "errors",
    "fs",
    "language",
    "model",
    "persistent_launcher",
    "spawned",
    "team",
    "terminal",
    "user",
]
