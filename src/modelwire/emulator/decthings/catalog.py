"""Every API and method of the public Decthings API (decthings-api 0.0.4, plus the JS client's
names of the same date), so that a method the emulator does not implement is told apart from one
that does not exist."""

from __future__ import annotations

from typing import Final

CATALOG: Final[dict[str, frozenset[str]]] = {
    "Dataset": frozenset(
        {
            "createDataset",
            "updateDataset",
            "deleteDataset",
            "getDatasets",
            "addEntries",
            "addEntriesToNeedsReview",
            "finalizeNeedsReviewEntries",
            "getEntries",
            "getNeedsReviewEntries",
            "removeEntries",
            "removeNeedsReviewEntries",
        }
    ),
    "Debug": frozenset(
        {
            "launchDebugSession",
            "getDebugSessions",
            "terminateDebugSession",
            "callCreateModelState",
            "callInstantiateModel",
            "callTrain",
            "getTrainingStatus",
            "getTrainingMetrics",
            "cancelTrainingSession",
            "callEvaluate",
            "callGetModelState",
            "downloadStateData",
            "removeNeedsReviewEntries",  # what the Python client's download_state_data sends
            "sendToRemoteInspector",
            "subscribeToEvents",
            "unsubscribeFromEvents",
        }
    ),
    "FS": frozenset(
        {
            "lookup",
            "setattr",
            "getattr",
            "mknod",
            "read",
            "write",
            "symlink",
            "readlink",
            "mkdir",
            "unlink",
            "rmdir",
            "rename",
            "link",
            "readdir",
            "copy",
            "rmdirAll",
        }
    ),
    "Language": frozenset({"startLanguageServer", "writeToLanguageServer", "unsubscribeFromEvents"}),
    "Model": frozenset(
        {
            "createModel",
            "waitForModelToBeCreated",
            "deleteModel",
            "updateModel",
            "getModels",
            "snapshotModel",
            "updateSnapshot",
            "deleteSnapshot",
            "setFilesystemSize",
            "getFilesystemUsage",
            "setImage",
            "createState",
            "uploadState",
            "cancelCreateState",
            "getCreatingStates",
            "waitForStateToBeCreated",
            "updateModelState",
            "setActiveModelState",
            "setCurrentModelState",  # the Python client's stale name for setActiveModelState
            "deleteModelState",
            "getModelState",
            "getSnapshotState",
            "train",
            "getTrainingStatus",
            "getTrainingMetrics",
            "getTrainingSysinfo",
            "cancelTrainingSession",
            "clearPreviousTrainingSession",
            "evaluate",
            "getEvaluations",
            "getFinishedEvaluationResult",
            "cancelEvaluation",
            "setUsedPersistentLaunchersForEvaluate",
            "getUsedPersistentLaunchersForEvaluate",
            # modelwire extension: training events over the WebSocket
            "subscribeToEvents",
            "unsubscribeFromEvents",
        }
    ),
    "PersistentLauncher": frozenset(
        {"createPersistentLauncher", "getPersistentLaunchers", "getSysinfo", "deletePersistentLauncher"}
    ),
    "Spawned": frozenset(
        {
            "spawnCommand",
            "spawnCommandForModel",
            "terminateSpawnedCommand",
            "getSpawnedCommands",
            "writeToSpawnedCommand",
            "subscribeToEvents",
            "unsubscribeFromEvents",
        }
    ),
    "Team": frozenset(
        {
            "createTeam",
            "updateTeam",
            "getTeams",
            "inviteUsersToTeam",
            "removeUsersFromTeam",
            "acceptTeamInvitation",
            "denyTeamInvitation",
            "setShareModelWithTeam",
            "setShareDatasetWithTeam",
            "createRole",
            "editRole",
            "removeRole",
            "assignRole",
        }
    ),
    "Terminal": frozenset(
        {
            "launchTerminalSession",
            "terminateTerminalSession",
            "getTerminalSessions",
            "writeToTerminalSession",
            "resizeTerminalSession",
            "addFilesystemAccessForTerminalSession",
            "subscribeToEvents",
            "unsubscribeFromEvents",
        }
    ),
    "User": frozenset(
        {
            "findMatchingUsers",
            "getUsers",
            "getNotifications",
            "setNotification",
            "getBillingStats",
            "estimateAmountDue",
            "getQuotas",
        }
    ),
}
