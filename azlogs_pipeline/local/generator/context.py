"""What every record builder shares: the run's random source, clock, quirks and population."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .population import Population
from .quirks import Quirks
from .rand import Rng
from .times import Clock


@dataclass
class Ctx:
    rng: Rng
    clock: Clock
    q: Quirks
    pop: Population

    def envelope(
        self,
        proc: int,
        category: str,
        operation: str,
        result_type: str | None,
        correlation_id: str,
        caller_ip: str,
        identity: str | None = None,
        location: str | None = None,
        description: str | None = None,
        operation_version: str = "1.0",
    ) -> dict[str, Any]:
        """Top-level fields of a tenant (Entra) record, without ``properties``."""
        rec: dict[str, Any] = {
            "time": self.q.time(proc),
            "resourceId": self.q.resource_id(),
            "operationName": operation,
            "operationVersion": operation_version,
            "category": category,
            "tenantId": self.pop.tenant_id,
        }
        if result_type is not None:
            rec["resultType"] = result_type
        rec["resultSignature"] = "None"
        if description is not None:
            rec["resultDescription"] = description
        rec["durationMs"] = self.q.duration()
        rec["callerIpAddress"] = caller_ip
        rec["correlationId"] = correlation_id
        if identity is not None:
            rec["identity"] = identity
        self.q.level(rec)
        if location is not None:
            rec["location"] = location
        return rec
