"""Background jobs of the Clarifai emulator that move through statuses: training and evaluation.

A job is queued when requested, then a worker waits `Timing.train_delay`, marks it running, waits
again and does the work, which ends in the done status or the failed one with the reason. The
delays let clients observe each status. A job still queued or running when the emulator closes is
left so, and resumed by the next emulator on the same database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from modelwire._gen.clarifai.api.status import status_pb2
from modelwire.emulator.clarifai.context import Context
from modelwire.emulator.clarifai.failures import ApiFailure, Code, status

log = logging.getLogger("modelwire.emulator")


@dataclass
class Timing:
    """Delays and waits of background work and long polls, in seconds (change them at any time)."""

    train_delay: float = 0.2  # each of the queued and running phases of training and evaluation
    runner_poll_window: float = 2.0  # how long ListRunnerItems waits for work before answering empty
    runner_idle_timeout: float = 5.0  # a runner that has not polled for this long is not connected
    runner_result_timeout: float = 60.0  # how long PostModelOutputs waits for a runner's answer


class JobFailed(Exception):
    """The job cannot be done for a reason the client can fix (becomes the failed status)."""


@dataclass(frozen=True)
class Phases:
    running: Code
    failed: Code


def run_phases(
    ctx: Context,
    timing: Timing,
    phases: Phases,
    set_status: Callable[[status_pb2.Status], bool],
    work: Callable[[], None],
    what: str,
) -> None:
    """Run one job: `set_status` records a status (False when the job is gone, e.g. deleted);
    `work` computes and stores the result with the done status, or raises JobFailed."""
    try:
        if ctx.closed.wait(timing.train_delay) or not set_status(status(phases.running)):
            return
        if ctx.closed.wait(timing.train_delay):
            return
        work()
    except JobFailed as failure:
        set_status(status(phases.failed, str(failure)))
    except ApiFailure as failure:  # what it needs was deleted meanwhile (e.g. the model)
        set_status(status(phases.failed, failure.details))
    except Exception as exc:  # a bug: the job fails visibly, with a log entry to find it
        log.exception("clarifai emulator: %s failed", what)
        set_status(status(phases.failed, f"the emulator failed: {type(exc).__name__}: {exc}"))
