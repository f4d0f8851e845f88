"""Drain one Event Hub partition from its blob checkpoint into the raw lake.

The order of things is what keeps the promises: claim the partition; read the checkpoint; note the
last sequence number enqueued now (the drain's target); receive in batches; renew the claim and
flush each bounded batch to Parquet atomically; renew again; only then move the checkpoint. A crash
at any instant re-reads from the last checkpoint, whose events are all durable already.

Parsing happens in the SDK's receive thread (see `_Intake`); a full batch is sealed and written on
one flusher thread while receiving goes on, with at most one batch in flight, so memory is bounded
by the flush size and the SDK's prefetch, whatever the backlog. Any error stops the drain before
the checkpoint moves past what is durable.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from azlogs_pipeline.config import Settings
from azlogs_pipeline.ingest.batch import FlushSummary, LandedTotals, RawBatchWriter, SealedBatch
from azlogs_pipeline.ingest.bodies import EventBody, event_body
from azlogs_pipeline.ingest.clients import (
    checkpoint_namespace,
    ensure_container,
    make_checkpoint_store,
    make_consumer,
)
from azlogs_pipeline.ingest.errors import AZURE_ERRORS, DrainError, explain
from azlogs_pipeline.ingest.ownership import OwnershipLost, PartitionClaim
from azlogs_pipeline.ingest.status import lag

log = logging.getLogger(__name__)

# The SDK hands over a partial batch only after max_wait_time: keep it short so the tail of a
# partition does not wait, and count idle polls up to the configured idle_seconds instead.
_POLL_SECONDS = 0.25


@dataclass
class Checkpoint:
    offset: str
    sequence_number: int


@dataclass
class DrainResult(LandedTotals):
    """What one drain of one partition did, for run metadata and `azlogs status`."""

    eventhub: str
    partition_id: str
    status: str = "drained"
    events: int = 0
    body_bytes: int = 0
    files: int = 0
    first_sequence_number: int | None = None
    last_sequence_number: int | None = None
    checkpoint_before: Checkpoint | None = None
    checkpoint_after: Checkpoint | None = None
    target_sequence_number: int | None = None
    begin_sequence_number: int | None = None
    lost_to_retention: int = 0
    lag_after: int | None = None
    held_by: str | None = None
    held_by_foreign: bool = False
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        return self.records / self.duration_seconds if self.duration_seconds > 0 else 0.0

    def add(self, flushed: FlushSummary) -> None:
        self.add_landed(flushed)
        self.events += flushed.events
        self.body_bytes += flushed.body_bytes
        self.files += len(flushed.files)
        if self.first_sequence_number is None:
            self.first_sequence_number = flushed.first_sequence_number
        self.last_sequence_number = flushed.last_sequence_number


@dataclass(frozen=True)
class DrainProgress:
    """Where a drain in progress stands: events received of those enqueued when it began."""

    eventhub: str
    partition_id: str
    events: int
    target_events: int
    records: int
    elapsed_seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the rate so far; None before the first event."""
        rate = self.events_per_second
        return max(0, self.target_events - self.events) / rate if rate > 0 else None

    def line(self) -> str:
        eta = self.eta_seconds
        share = self.events / self.target_events if self.target_events else 1.0
        return (
            f"{self.events:,} of {self.target_events:,} events ({share:.0%}), "
            f"{self.records:,} records, {self.events_per_second:,.0f} events/s, "
            + (f"ETA {eta:.0f} s" if eta is not None else "ETA unknown")
        )


ProgressCallback = Callable[[DrainProgress], None]


def lost_to_retention(checkpoint: Checkpoint | None, begin_sequence_number: int) -> int:
    """Events between the checkpoint and the oldest event still in the partition."""
    if checkpoint is None:
        return 0
    return max(0, begin_sequence_number - (checkpoint.sequence_number + 1))


class PartitionDrain:
    """One drain of one (hub, partition); call :meth:`run` once."""

    def __init__(
        self,
        settings: Settings,
        eventhub: str,
        partition_id: str,
        progress: ProgressCallback | None = None,
        run_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.progress = progress
        self.run_id = run_id
        self.eventhub = eventhub
        self.partition_id = str(partition_id)
        self.limits = settings.drain
        self.result = DrainResult(eventhub, self.partition_id)
        self._store: Any = None
        self._consumer: Any = None
        self._claim: PartitionClaim | None = None
        self._flusher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flush")
        self._in_flight: Future[FlushSummary] | None = None

    def run(self) -> DrainResult:
        started = time.monotonic()
        self._store = make_checkpoint_store(self.settings.storage)
        self._consumer = make_consumer(self.settings.eventhub, self.eventhub, checkpoint_store=None)
        try:
            ensure_container(self.settings.storage)
            self._drain()
        except AZURE_ERRORS as exc:
            raise explain(exc, self.settings, self.eventhub) from exc
        except OwnershipLost as exc:
            log.warning("%s", exc)
            self.result.status = "owned_elsewhere"
            self.result.held_by = exc.holder
            self.result.held_by_foreign = exc.foreign
        finally:
            if self._claim is not None:
                self._claim.release()
            self._consumer.close()
            self._store.close()
            self.result.duration_seconds = time.monotonic() - started
        return self.result

    @property
    def namespace(self) -> str:
        return checkpoint_namespace(self._consumer)

    def _drain(self) -> None:
        hub = self.settings.eventhub
        self._claim = PartitionClaim(
            self._store,
            self.namespace,
            self.eventhub,
            hub.consumer_group,
            self.partition_id,
            ttl_seconds=self.limits.ownership_seconds,
            run_id=self.run_id,
        )
        self._claim.acquire()
        checkpoint = self._read_checkpoint()
        self.result.checkpoint_before = checkpoint
        props = self._partition_properties()
        self.result.begin_sequence_number = props["beginning_sequence_number"]
        self.result.target_sequence_number = props["last_enqueued_sequence_number"]
        self._report_retention(checkpoint, props)
        position = self._start_position(checkpoint, props)
        if position is not None:
            self._receive(position, checkpoint)
        after = self._partition_properties()
        done = self.result.checkpoint_after or checkpoint
        self.result.lag_after = lag(
            done.sequence_number if done else None,
            after["beginning_sequence_number"],
            after["last_enqueued_sequence_number"],
            after["is_empty"],
        )

    def _partition_properties(self) -> dict[str, Any]:
        """The partition's properties within AZLOGS_EVENTHUB_RETRY_TIMEOUT: a host that accepts
        connections but never answers holds the SDK's connect forever."""
        timeout = self.settings.eventhub.retry_timeout
        answer: Future[dict[str, Any]] = Future()

        def ask() -> None:
            try:
                answer.set_result(self._consumer.get_partition_properties(self.partition_id))
            except BaseException as exc:
                answer.set_exception(exc)

        threading.Thread(target=ask, name=f"properties-{self.partition_id}", daemon=True).start()
        try:
            return answer.result(timeout=timeout)
        except TimeoutError:
            raise DrainError(
                f"Event Hubs did not answer for {timeout:.0f} s when asked for {self.eventhub} "
                f"partition {self.partition_id}'s properties. Nothing after the last checkpoint "
                "was lost; check that the namespace is reachable (AZLOGS_EVENTHUB_CONNECTION_STRING "
                "/ AZLOGS_EVENTHUB_NAMESPACE) and run the drain again, or wait longer with "
                "AZLOGS_EVENTHUB_RETRY_TIMEOUT."
            ) from None

    def _read_checkpoint(self) -> Checkpoint | None:
        for item in self._store.list_checkpoints(
            self.namespace, self.eventhub, self.settings.eventhub.consumer_group
        ):
            if item["partition_id"] == self.partition_id:
                return Checkpoint(str(item["offset"]), int(item["sequence_number"]))
        return None

    def _report_retention(self, checkpoint: Checkpoint | None, props: dict[str, Any]) -> None:
        lost = lost_to_retention(checkpoint, props["beginning_sequence_number"])
        self.result.lost_to_retention = lost
        if lost:
            assert checkpoint is not None
            log.warning(
                "%d events of %s partition %s were lost to the Event Hub's retention before they "
                "could be drained (checkpoint at sequence %d, oldest available %d). Drain more "
                "often or raise the hub's retention.",
                lost,
                self.eventhub,
                self.partition_id,
                checkpoint.sequence_number,
                props["beginning_sequence_number"],
            )

    def _start_position(self, checkpoint: Checkpoint | None, props: dict[str, Any]) -> str | None:
        """The offset to receive after, or None when there is nothing to receive."""
        if props["is_empty"]:
            return None
        if checkpoint is not None:
            if checkpoint.sequence_number >= props["last_enqueued_sequence_number"]:
                return None
            return checkpoint.offset
        if self.settings.eventhub.start_position == "latest":
            latest = Checkpoint(
                str(props["last_enqueued_offset"]), props["last_enqueued_sequence_number"]
            )
            self._write_checkpoint(latest)
            return None
        return "-1"

    def _receive(self, offset: str, checkpoint: Checkpoint | None) -> None:
        limits = self.limits
        assert self.result.target_sequence_number is not None
        writer = RawBatchWriter(
            self.settings.data_dir,
            self.eventhub,
            self.partition_id,
            max_records=limits.flush_records,
            max_bytes=limits.flush_bytes,
        )
        intake = _Intake(
            writer,
            self._flush,
            last_sequence_number=checkpoint.sequence_number if checkpoint else -1,
            target=self.result.target_sequence_number,
            max_events=limits.max_events,
            idle_seconds=limits.idle_seconds,
        )
        receiver = threading.Thread(
            target=self._consumer.receive_batch,
            kwargs={
                "on_event_batch": intake.on_batch,
                "on_error": intake.on_error,
                "partition_id": self.partition_id,
                "starting_position": offset,
                "starting_position_inclusive": False,
                "max_batch_size": limits.receive_batch,
                "prefetch": limits.receive_batch,
                "max_wait_time": _POLL_SECONDS,
            },
            name=f"receive-{self.eventhub}-{self.partition_id}",
            daemon=True,
        )
        started = time.monotonic()
        deadline = started + limits.max_seconds
        base = max(intake.last_sequence_number, (self.result.begin_sequence_number or 0) - 1)
        goal = self.result.target_sequence_number - base
        if limits.max_events is not None:
            goal = min(goal, limits.max_events)
        renew_every = limits.ownership_seconds / 3
        renewed = time.monotonic()
        receiver.start()
        # However the wait ends (done, deadline, an interruption of the run), the in-flight flush
        # finishes (files, then checkpoint) before the claim is released, and no new one starts.
        try:
            try:
                while not intake.done.wait(0.2):
                    if time.monotonic() >= deadline:
                        log.warning(
                            "%s partition %s: the drain reached its bound of %.0f s "
                            "(AZLOGS_DRAIN_MAX_SECONDS); it lands what it has and the next run "
                            "resumes.",
                            self.eventhub,
                            self.partition_id,
                            limits.max_seconds,
                        )
                        intake.done.set()
                    elif intake.silent_for() > self.settings.eventhub.retry_timeout:
                        intake.fail(self._connection_lost(checkpoint))
                    if time.monotonic() - renewed >= renew_every:
                        self._renew_claim(intake)
                        renewed = time.monotonic()
                    if self.progress is not None:
                        self.progress(
                            DrainProgress(
                                self.eventhub,
                                self.partition_id,
                                events=max(0, intake.last_sequence_number - base),
                                target_events=goal,
                                records=self.result.records + writer.pending_records,
                                elapsed_seconds=time.monotonic() - started,
                            )
                        )
            finally:
                intake.done.set()
                self._consumer.close()
                receiver.join(timeout=60)
            if receiver.is_alive():
                raise DrainError(
                    f"the receiver of {self.eventhub} partition {self.partition_id} did not stop; "
                    "nothing after the last checkpoint was kept. Run the drain again."
                )
            if intake.errors:
                error = intake.errors[0]
                if isinstance(error, OwnershipLost | DrainError):
                    raise error
                if isinstance(error, AZURE_ERRORS):
                    raise explain(error, self.settings, self.eventhub) from error
                raise DrainError(
                    f"receiving from {self.eventhub} partition {self.partition_id} failed: "
                    f"{error}. Everything up to the last checkpoint is safe; run the drain again "
                    "once the cause is fixed."
                ) from error
            self._flush(writer, wait=True)
        finally:
            self._flusher.shutdown(wait=True)

    def _connection_lost(self, checkpoint: Checkpoint | None) -> DrainError:
        timeout = self.settings.eventhub.retry_timeout
        done = self.result.checkpoint_after or checkpoint
        where = f"sequence {done.sequence_number}" if done else "the partition's start"
        return DrainError(
            f"lost the connection to Event Hubs while receiving {self.eventhub} partition "
            f"{self.partition_id}: no answer for {timeout:.0f} s while the SDK kept reconnecting. "
            f"Everything up to the checkpoint at {where} is in the lake and the next run resumes "
            "from there. Check that the namespace is reachable (AZLOGS_EVENTHUB_CONNECTION_STRING "
            "/ AZLOGS_EVENTHUB_NAMESPACE), or wait longer with AZLOGS_EVENTHUB_RETRY_TIMEOUT."
        )

    def _renew_claim(self, intake: _Intake) -> None:
        """Keep the claim fresh while receiving; losing it stops the drain like an error."""
        assert self._claim is not None
        try:
            self._claim.renew()
        except OwnershipLost as exc:
            intake.fail(exc)

    def _flush(self, writer: RawBatchWriter, wait: bool = False) -> None:
        """Seal the batch and write it on the flusher thread while receiving goes on.

        At most one batch is in flight; its files are durable before its checkpoint moves, and
        batches are written and checkpointed in order.
        """
        self._await_flush()
        sealed = writer.seal()
        if sealed is not None:
            self._in_flight = self._flusher.submit(self._write_and_checkpoint, sealed)
        if wait:
            self._await_flush()

    def _await_flush(self) -> None:
        if self._in_flight is not None:
            flushed = self._in_flight.result()
            self._in_flight = None
            self.result.add(flushed)

    def _write_and_checkpoint(self, sealed: SealedBatch) -> FlushSummary:
        """Renew the claim before writing (a drainer that lost the partition, even in a race at
        claim time, lands nothing) and again before the checkpoint moves."""
        assert self._claim is not None
        self._claim.renew()
        flushed = sealed.write()
        self._claim.renew()
        assert flushed.last_sequence_number is not None and flushed.last_offset is not None
        self._write_checkpoint(Checkpoint(flushed.last_offset, flushed.last_sequence_number))
        return flushed

    def _write_checkpoint(self, checkpoint: Checkpoint) -> None:
        self._store.update_checkpoint(
            {
                "fully_qualified_namespace": self.namespace,
                "eventhub_name": self.eventhub,
                "consumer_group": self.settings.eventhub.consumer_group,
                "partition_id": self.partition_id,
                "offset": checkpoint.offset,
                "sequence_number": checkpoint.sequence_number,
            }
        )
        self.result.checkpoint_after = checkpoint


class _Intake:
    """Takes received batches in the SDK's receive thread: parse, buffer, flush when full.

    Working in the thread that reads the socket (rather than handing events to another thread)
    keeps the GIL from bouncing between two busy threads, which cost a third of the throughput.
    ``done`` is set when the drain has what it came for, or on an error; after it the callback
    touches nothing.
    """

    def __init__(
        self,
        writer: RawBatchWriter,
        flush: Callable[[RawBatchWriter], None],
        *,
        last_sequence_number: int,
        target: int,
        max_events: int | None,
        idle_seconds: float,
    ) -> None:
        self.writer = writer
        self.flush = flush
        self.last_sequence_number = last_sequence_number
        self.target = target
        self.remaining = max_events
        self.idle_seconds = idle_seconds
        self.idle_since: float | None = None
        self.done = threading.Event()
        self.errors: list[BaseException] = []
        self._heard = time.monotonic()
        self._busy = False

    def silent_for(self) -> float:
        """Seconds since the SDK last called back (it does every poll, even with no events while
        connected); 0 while a callback is still working, e.g. waiting on a slow flush."""
        return 0.0 if self._busy else time.monotonic() - self._heard

    def fail(self, error: BaseException) -> None:
        self.errors.append(error)
        self.done.set()

    def on_batch(self, _context: Any, events: list[Any]) -> None:
        if self.done.is_set():
            return
        self._busy = True
        try:
            self._take(events)
        except BaseException as exc:
            self.fail(exc)
        finally:
            self._heard = time.monotonic()
            self._busy = False

    def on_error(self, _context: Any, error: BaseException) -> None:
        self.fail(error)

    def _take(self, events: list[Any]) -> None:
        if not events:
            self.idle_since = self.idle_since or time.monotonic()
            if time.monotonic() - self.idle_since >= self.idle_seconds:
                self.done.set()
            return
        self.idle_since = None
        for event in events:
            if self.done.is_set():
                return
            seq = event.sequence_number
            if seq <= self.last_sequence_number:
                continue
            body = _body(event)
            self.writer.add_event(
                body.data,
                sequence_number=seq,
                offset=event.offset,
                enqueued_time=event.enqueued_time,
                note=body.note,
                dead_letter_reason=body.dead_letter_reason,
            )
            self.last_sequence_number = seq
            if self.writer.is_full:
                self.flush(self.writer)
            if self.remaining is not None:
                self.remaining -= 1
                if self.remaining <= 0:
                    break
        if self.last_sequence_number >= self.target or self.remaining == 0:
            self.done.set()


def _body(event: Any) -> EventBody:
    """The event's bytes whatever its body section (see `ingest.bodies`); should even that fail,
    empty bytes dead-lettered with the reason, so that one event can never stop its partition."""
    try:
        return event_body(event)
    except Exception as exc:
        return EventBody(
            b"",
            "unreadable",
            "no bytes could be taken",
            f"taking the event's body failed ({type(exc).__name__}: {exc})",
        )


def drain_partition(
    settings: Settings,
    eventhub: str,
    partition_id: str,
    progress: ProgressCallback | None = None,
    run_id: str | None = None,
) -> DrainResult:
    """Drain one partition until caught up with what was enqueued when it began (or a cap);
    ``progress`` is called about five times a second while events are received. ``run_id`` (the
    Dagster run's) goes into the ownership claim, to tell people who holds it."""
    return PartitionDrain(settings, eventhub, partition_id, progress, run_id).run()
