"""Event Hubs node addresses and receive filters as the SDK writes them."""

from __future__ import annotations

import re
from typing import NamedTuple

CBS_NODE = "$cbs"
MANAGEMENT_NODE = "$management"


class PartitionAddress(NamedTuple):
    hub: str
    consumer_group: str | None
    partition_id: str | None


class StartPosition(NamedTuple):
    """Where a receiver starts: ``field`` is offset, sequence or time; ``value`` None = special."""

    field: str
    value: int | None
    inclusive: bool
    latest: bool = False


def _path(address: str) -> str:
    if "://" in address:
        address = address.split("://", 1)[1]
        address = address.split("/", 1)[1] if "/" in address else ""
    return address.strip("/")


def parse_entity(address: str) -> PartitionAddress | None:
    """``<hub>``, ``<hub>/Partitions/<id>`` or ``<hub>/ConsumerGroups/<cg>/Partitions/<id>``."""
    parts = _path(address).split("/")
    if not parts or not parts[0]:
        return None
    hub, rest = parts[0], [p.lower() for p in parts[1:]]
    if not rest:
        return PartitionAddress(hub, None, None)
    if len(rest) == 2 and rest[0] == "partitions":
        return PartitionAddress(hub, None, parts[2])
    if len(rest) == 4 and rest[0] == "consumergroups" and rest[2] == "partitions":
        return PartitionAddress(hub, parts[2], parts[4])
    return None


def node_name(address: str | None) -> str:
    return _path(address or "")


_SELECTOR = re.compile(
    r"^\s*amqp\.annotation\.x-opt-(offset|sequence-number|enqueued-time)\s*(>=|>)\s*'([^']*)'\s*$",
    re.IGNORECASE,
)
_FIELDS = {"offset": "offset", "sequence-number": "sequence", "enqueued-time": "time"}


def parse_selector(expression: str) -> StartPosition:
    """Parse the SDK's selector filter; raise ValueError for anything else."""
    match = _SELECTOR.match(expression)
    if not match:
        raise ValueError(f"unsupported selector filter: {expression!r}")
    field = _FIELDS[match.group(1).lower()]
    inclusive = match.group(2) == ">="
    raw = match.group(3)
    if field == "offset" and raw == "@latest":
        return StartPosition("offset", None, inclusive, latest=True)
    if field == "offset" and raw == "-1":
        return StartPosition("offset", None, inclusive)
    try:
        return StartPosition(field, int(raw), inclusive)
    except ValueError:
        raise ValueError(f"invalid {field} in selector filter: {raw!r}") from None
