"""Runs of `azlogs run` whose process died, and the pool slots they would hold forever.

`azlogs run` executes its runs in its own process, where no daemon watches them: a process killed
with -9 (OOM, evicted pod) leaves its run STARTED and its `lake_writers` slot claimed, and after
as many kills as the pool has slots every later run would wait for a slot forever. So each run is
tagged with the process that executes it (:data:`PROCESS_TAG`, see ingest/process.py), and before
it starts, `azlogs run` marks the runs of dead processes of this host failed and frees their
slots (:func:`fail_dead_runs`). A run still cannot get a slot held by a live run elsewhere: it
waits a bounded time (:func:`wait_for_slot`) and then fails, naming the runs that hold the slots.

With the daemon (`make ui`, a deployment), run monitoring in dagster.yaml does the same for the
runs it launched: it fails runs whose worker is gone and frees the slots of ended runs after
``free_slots_after_run_end_seconds``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import dagster as dg

from azlogs_pipeline.ingest.process import ProcessIdentity, current_process

PROCESS_TAG = "azlogs/process"
TRIGGER_TAG = "azlogs/trigger"
TRIGGER = "azlogs run"
_UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
_POLL_SECONDS = 1.0


class SlotTimeout(RuntimeError):
    """No slot of the run's pool came free within the bound."""


def run_tags() -> dict[str, str]:
    """Tags of a run of `azlogs run`: its trigger and the process that executes it."""
    return {TRIGGER_TAG: TRIGGER, PROCESS_TAG: current_process().encode()}


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    partition_key: str | None
    process: ProcessIdentity


def fail_dead_runs(instance: dg.DagsterInstance) -> list[DeadRun]:
    """Mark failed the unfinished runs of `azlogs run` whose process on this host is gone, and
    free their pool slots. Runs of live processes, and of other hosts, are left alone."""
    found = []
    runs = instance.get_runs(
        filters=dg.RunsFilter(statuses=_UNFINISHED, tags={TRIGGER_TAG: TRIGGER})
    )
    for run in runs:
        process = ProcessIdentity.decode(run.tags.get(PROCESS_TAG, ""))
        if process is None or process.alive() is not False:
            continue
        dead = DeadRun(run.run_id, run.tags.get("dagster/partition"), process)
        message = (
            f"The process that ran this run (pid {process.pid} on {process.host}) is gone "
            "(killed or crashed); marked failed by the next `azlogs run`, which freed its pool "
            "slots."
        )
        instance.report_run_failed(run, message=message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        found.append(dead)
    return found


def wait_for_slot(instance: dg.DagsterInstance, pool: str, bound_seconds: float) -> None:
    """Return once `pool` has a free slot; raise :class:`SlotTimeout` after `bound_seconds`."""
    deadline = time.monotonic() + bound_seconds
    while True:
        info = instance.event_log_storage.get_concurrency_info(pool)
        if info.limit is None or info.active_slot_count < info.limit:
            return
        if time.monotonic() >= deadline:
            holders = ", ".join(sorted(info.active_run_ids))
            raise SlotTimeout(
                f"no slot of the pool {pool!r} came free within {bound_seconds:.0f} s: its "
                f"{info.limit} slots are held by the runs {holders}. Wait for them to end, or, "
                "if their processes are gone, free their slots in the Dagster UI (Deployment > "
                "Concurrency) or run `azlogs run` on the host that ran them; "
                "AZLOGS_SLOT_WAIT_SECONDS sets this bound."
            )
        time.sleep(_POLL_SECONDS)
