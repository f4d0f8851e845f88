"""At most one drainer per (hub, consumer group, partition), through the standard ownership blobs.

The claim is an ETag-conditional write of ``<namespace>/<hub>/<cg>/ownership/<partition>`` by
Microsoft's BlobCheckpointStore, the same blob the SDK's own load balancer uses. The blob stays
standard: who holds it is encoded in its owner id (`azlogs;host=...;pid=...;start=...;...`, see
:class:`Owner`), an opaque string to every other consumer.

Whether a held claim may be taken:

- held by an azlogs drainer of this host (and pid namespace) whose process is gone (pid not
  running, or running but started at another time: a reused pid) -> taken at once, logged;
- held by a live azlogs drainer of this host -> never taken, whatever its age;
- held by anyone else (another host, another consumer) -> respected until it is ``ttl_seconds``
  without renewal, as the SDK's load balancer does.

The drainer renews its claim before each write and each checkpoint and every third of the TTL
while it waits, so a live drain's claim does not age out.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from azlogs_pipeline.errors import AzlogsError
from azlogs_pipeline.ingest.process import (
    ProcessIdentity,
    current_process,
    decode_fields,
    encode_fields,
)

log = logging.getLogger(__name__)

_PREFIX = "azlogs;"


@dataclass(frozen=True)
class Owner:
    """An azlogs drainer as its claim names it."""

    process: ProcessIdentity
    since: float
    run_id: str | None = None
    nonce: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def encode(self) -> str:
        """The owner id written to the blob (ASCII, as blob metadata must be)."""
        extra = {"since": f"{self.since:.0f}", "run": self.run_id or "", "id": self.nonce}
        return _PREFIX + encode_fields({**self.process.fields(), **extra})

    @classmethod
    def parse(cls, owner_id: str) -> Owner | None:
        """The owner named by an azlogs owner id; None for any other consumer's id."""
        if not owner_id.startswith(_PREFIX):
            return None
        try:
            values = decode_fields(owner_id[len(_PREFIX) :])
            process = ProcessIdentity.from_fields(values)
            return cls(process, float(values["since"]), values["run"] or None, values["id"])
        except (KeyError, ValueError):
            return None

    def describe(self) -> str:
        run = f" (Dagster run {self.run_id})" if self.run_id else ""
        since = datetime.fromtimestamp(self.since, UTC)
        return (
            f"azlogs on host {self.process.host} pid {self.process.pid}{run} since "
            f"{since:%H:%M:%S} UTC"
        )


class OwnershipLost(AzlogsError, RuntimeError):
    """Another drainer owns the partition; this one must land nothing more and move no checkpoint.

    ``holder`` says who (one line, for `azlogs run`); ``foreign`` is true when the holder is not an
    azlogs drainer (another consumer in the same consumer group: a misconfiguration).
    """

    def __init__(self, message: str, holder: str, *, foreign: bool = False) -> None:
        super().__init__(message)
        self.holder = holder
        self.foreign = foreign


@dataclass
class PartitionClaim:
    """One drainer's claim on one partition."""

    store: Any
    namespace: str
    eventhub: str
    consumer_group: str
    partition_id: str
    ttl_seconds: float = 120.0
    run_id: str | None = None
    owner: Owner = field(init=False)
    _ownership: dict[str, Any] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.owner = Owner(current_process(), time.time(), self.run_id)

    @property
    def owner_id(self) -> str:
        return self.owner.encode()

    @property
    def where(self) -> str:
        return f"partition {self.partition_id} of {self.eventhub}"

    def _current(self) -> dict[str, Any] | None:
        for item in self.store.list_ownership(self.namespace, self.eventhub, self.consumer_group):
            if item["partition_id"] == self.partition_id:
                return dict(item)
        return None

    def acquire(self) -> None:
        """Claim the partition or raise :class:`OwnershipLost` naming who holds it."""
        current = self._current()
        held_by = (current or {}).get("owner_id") or ""
        if held_by and held_by != self.owner_id:
            assert current is not None
            self._check_holder(held_by, time.time() - float(current.get("last_modified_time") or 0))
        with self._lock:
            self._claim(current, self.owner_id)

    def _check_holder(self, held_by: str, age: float) -> None:
        """Return when the claim may be taken; raise OwnershipLost when it may not."""
        holder = Owner.parse(held_by)
        alive = holder.process.alive() if holder is not None else None
        if holder is not None and alive is False:
            log.warning(
                "%s: took over the claim of %s, whose process is gone (claim renewed %.0f s ago).",
                self.where,
                holder.describe(),
                age,
            )
            return
        if holder is not None and alive:
            text = f"held by {holder.describe()}; that drain is still running"
            raise OwnershipLost(
                f"{self.where} is {text}. This drain stops without landing anything; run again "
                "when it has ended.",
                f"{text}: run again when it has ended",
            )
        left = self.ttl_seconds - age
        if left <= 0:
            log.warning(
                "%s: took over a claim not renewed for %.0f s (more than %.0f s) from %s.",
                self.where,
                age,
                self.ttl_seconds,
                holder.describe() if holder else held_by,
            )
            return
        expiry = f"claim expires in {left:.0f} s unless renewed"
        if holder is not None:
            text = f"held by {holder.describe()} ({expiry}); another drain is running"
            raise OwnershipLost(
                f"{self.where} is {text}. This drain stops without landing anything; it is free "
                "again when that drain ends or its claim expires.",
                text,
            )
        text = (
            f"held by another consumer of consumer group {self.consumer_group!r} (owner id "
            f"{held_by!r}, {expiry}); two consumers in one consumer group each miss what the "
            "other reads: stop the other consumer or give azlogs a consumer group of its own "
            "(AZLOGS_CONSUMER_GROUP)"
        )
        raise OwnershipLost(f"{self.where} is {text}.", text, foreign=True)

    def renew(self) -> None:
        """Refresh the claim; raise :class:`OwnershipLost` if someone else took it meanwhile."""
        with self._lock:
            self._claim(self._ownership, self.owner_id)

    def release(self) -> None:
        """Give the partition up (an empty owner, as the SDK's load balancer does)."""
        with self._lock:
            if self._ownership is None:
                return
            with contextlib.suppress(OwnershipLost):
                self._claim(self._ownership, "")

    def _claim(self, base: dict[str, Any] | None, owner_id: str) -> None:
        request = {
            "fully_qualified_namespace": self.namespace,
            "eventhub_name": self.eventhub,
            "consumer_group": self.consumer_group,
            "partition_id": self.partition_id,
            "owner_id": owner_id,
        }
        if base and base.get("etag"):
            request["etag"] = base["etag"]
        claimed = list(self.store.claim_ownership([request]))
        if not claimed:
            self._ownership = None
            text = "claimed by another drainer meanwhile"
            raise OwnershipLost(
                f"{self.where} was {text}; this drain stops without moving the checkpoint.",
                f"{text}: run again when that drain has ended",
            )
        self._ownership = claimed[0]
