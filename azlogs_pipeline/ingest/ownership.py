"""At most one drainer per (hub, consumer group, partition), through the standard ownership blobs.

The claim is an ETag-conditional write of ``<namespace>/<hub>/<cg>/ownership/<partition>`` by
Microsoft's BlobCheckpointStore, the same blob the SDK's own load balancer uses. A claim that is
younger than ``ttl_seconds`` and names another owner is respected; a conflict on the ETag means
another drainer won the race. Renewing before each checkpoint keeps the claim fresh and detects a
takeover before a checkpoint could move.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from azlogs_pipeline.errors import AzlogsError


class OwnershipLost(AzlogsError, RuntimeError):
    """Another drainer owns the partition; this one must land nothing more and move no checkpoint."""


@dataclass
class PartitionClaim:
    """One drainer's claim on one partition."""

    store: Any
    namespace: str
    eventhub: str
    consumer_group: str
    partition_id: str
    ttl_seconds: float = 120.0
    owner_id: str = field(default_factory=lambda: f"azlogs-{uuid.uuid4()}")
    _ownership: dict[str, Any] | None = None

    def _current(self) -> dict[str, Any] | None:
        for item in self.store.list_ownership(self.namespace, self.eventhub, self.consumer_group):
            if item["partition_id"] == self.partition_id:
                return dict(item)
        return None

    def acquire(self) -> None:
        """Claim the partition or raise :class:`OwnershipLost` naming who holds it."""
        current = self._current()
        if current and current["owner_id"] and current["owner_id"] != self.owner_id:
            age = time.time() - float(current.get("last_modified_time") or 0)
            if age < self.ttl_seconds:
                raise OwnershipLost(
                    f"partition {self.partition_id} of {self.eventhub} is being drained by "
                    f"{current['owner_id']} (claimed {age:.0f} s ago); this drain stops without "
                    "landing anything. It is free again when that drain ends or after "
                    f"{self.ttl_seconds:.0f} s without renewal."
                )
        self._claim(current, self.owner_id)

    def renew(self) -> None:
        """Refresh the claim; raise :class:`OwnershipLost` if someone else took it meanwhile."""
        self._claim(self._ownership, self.owner_id)

    def release(self) -> None:
        """Give the partition up (an empty owner, as the SDK's load balancer does)."""
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
            raise OwnershipLost(
                f"partition {self.partition_id} of {self.eventhub} was claimed by another drainer "
                "at the same time; this drain stops without moving the checkpoint."
            )
        self._ownership = claimed[0]
