"""Link endpoints: what the emulator does on each kind of link a client attaches.

Inbound links (the client sends): publishing to a hub or partition, and the request side of the
``$cbs`` / ``$management`` nodes. Outbound links (the client receives): a partition's events and
the reply side of those nodes. Outbound transfers are always pre-settled, as Event Hubs sends them.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from . import frames, message
from .addresses import StartPosition
from .codec import DecodeError, Described, Symbol
from .store import Hub, Partition

if TYPE_CHECKING:
    from .connection import Connection, Session

_LOG = logging.getLogger(__name__)

INBOUND_CREDIT = 1000
_READ_EVENTS = 128
_READ_BYTES = 1024 * 1024
RUNTIME_METRIC = "com.microsoft:enable-receiver-runtime-metric"
EPOCH = "com.microsoft:epoch"


class Link:
    role: bool

    def __init__(self, conn: Connection, session: Session, handle: int, fields: list[Any]) -> None:
        self.conn = conn
        self.session = session
        self.handle = handle
        self.name = fields[0]
        self.remote_handle = int(fields[1])
        self.snd_settle_mode = fields[3]
        self.rcv_settle_mode = fields[4]
        self.source = fields[5]
        self.target = fields[6]
        self.remote_properties = fields[13] or {}
        desired = fields[12] or []
        self.desired_capabilities = [desired] if isinstance(desired, str) else list(desired)
        self.closed = False

    def attach_reply(self, offered: list[str] | None = None) -> bytes:
        is_sender = self.role == frames.ROLE_SENDER
        return frames.attach_frame(
            self.session.channel,
            name=self.name,
            handle=self.handle,
            role=self.role,
            snd_settle_mode=self.snd_settle_mode,
            rcv_settle_mode=self.rcv_settle_mode,
            source=self.source,
            target=self.target,
            initial_delivery_count=0 if is_sender else None,
            max_message_size=None if is_sender else self.conn.broker.max_message_bytes,
            offered_capabilities=offered,
        )

    def opened(self) -> None:
        """Called once the attach reply is queued."""

    def on_flow(self, fields: list[Any]) -> None:
        pass

    def on_transfer(self, fields: list[Any], payload: memoryview) -> None:
        raise NotImplementedError

    def released(self) -> None:
        """Free what the link holds (receiver registration, listeners)."""

    def detach(self, err: Described | None = None) -> None:
        """Detach from the emulator's side (with an error the SDK surfaces)."""
        if self.closed:
            return
        self.conn.send(frames.detach_frame(self.session.channel, self.handle, True, err))
        self.session.forget(self)
        self.release()
        self.conn.flush()

    def release(self) -> None:
        if not self.closed:
            self.closed = True
            self.released()


class RefusedLink(Link):
    """A link attached only to be detached at once with an error (unknown entity, bad filter)."""

    def __init__(self, conn: Connection, session: Session, handle: int, fields: list[Any]) -> None:
        super().__init__(conn, session, handle, fields)
        self.role = not bool(fields[2])

    def on_transfer(self, fields: list[Any], payload: memoryview) -> None:
        pass


class InboundLink(Link):
    """The client sends; the emulator grants credit and settles every delivery."""

    role = frames.ROLE_RECEIVER

    def __init__(self, conn: Connection, session: Session, handle: int, fields: list[Any]) -> None:
        super().__init__(conn, session, handle, fields)
        self.delivery_count = int(fields[9] or 0)
        self.credit = 0
        self._parts: list[bytes | memoryview] = []
        self._size = 0
        self._first: list[Any] | None = None

    def opened(self) -> None:
        self.grant()

    def grant(self) -> None:
        self.credit = INBOUND_CREDIT
        self.conn.send(self.session.flow(self.handle, self.delivery_count, self.credit))

    def on_transfer(self, fields: list[Any], payload: memoryview) -> None:
        if self._first is None:
            self._first = fields
        if fields[9]:  # aborted
            self._parts, self._size, self._first = [], 0, None
            return
        if self._size <= self.conn.broker.max_message_bytes:  # beyond it, count but do not keep
            # A single-frame delivery is used at once; parts of a longer one must outlive the frame.
            self._parts.append(bytes(payload) if fields[5] or self._parts else payload)
        self._size += len(payload)
        if fields[5]:  # more
            return
        first, parts, size = self._first, self._parts, self._size
        self._parts, self._size, self._first = [], 0, None
        self.delivery_count += 1
        self.credit -= 1
        data = parts[0] if len(parts) == 1 else memoryview(b"".join(parts))
        try:
            state = self.deliver(first, memoryview(data), size)
        except DecodeError as exc:
            state = frames.rejected("amqp:decode-error", f"Malformed message: {exc}")
        if not first[4] and first[1] is not None:  # unsettled: tell the sender the outcome
            delivery_id = int(first[1])
            self.conn.send(
                frames.disposition_frame(self.session.channel, delivery_id, delivery_id, state)
            )
        if self.credit < INBOUND_CREDIT // 2:
            self.grant()

    def deliver(self, first: list[Any], data: memoryview, size: int) -> Described:
        raise NotImplementedError


class PublishLink(InboundLink):
    """A producer's link to ``<hub>`` or ``<hub>/Partitions/<id>``."""

    def __init__(
        self,
        conn: Connection,
        session: Session,
        handle: int,
        fields: list[Any],
        hub: Hub,
        partition_id: str | None,
    ) -> None:
        super().__init__(conn, session, handle, fields)
        self.hub = hub
        self.partition_id = partition_id

    def deliver(self, first: list[Any], data: memoryview, size: int) -> Described:
        limit = self.conn.broker.max_message_bytes
        if size > limit:
            return frames.rejected(
                "amqp:link:message-size-exceeded",
                f"The received message (delivery-id:{first[1]}, size:{size} bytes) exceeds the "
                f"limit ({limit} bytes) currently allowed on the link.",
            )
        pubs = message.split_publication(data, int(first[3] or 0))
        self.conn.broker.store.publish(self.hub, self.partition_id, pubs)
        return frames.ACCEPTED


class RequestLink(InboundLink):
    """Request side of ``$cbs`` or ``$management``; replies go out on the paired reply link."""

    def __init__(
        self, conn: Connection, session: Session, handle: int, fields: list[Any], node: str
    ) -> None:
        super().__init__(conn, session, handle, fields)
        self.node = node

    def deliver(self, first: list[Any], data: memoryview, size: int) -> Described:
        request = message.parse_request(data)
        reply = self.conn.broker.handle_request(self.node, request)
        target = self.conn.reply_link(self.node, request.reply_to)
        if target is None:
            _LOG.warning("no reply link attached for %s; dropping the reply", self.node)
        else:
            target.enqueue(reply)
        return frames.ACCEPTED


class OutboundLink(Link):
    """The client receives: sends as long as it has link credit and session window."""

    role = frames.ROLE_SENDER

    def __init__(self, conn: Connection, session: Session, handle: int, fields: list[Any]) -> None:
        super().__init__(conn, session, handle, fields)
        self.credit = 0
        self.delivery_count = 0
        self.drain = False
        self._scheduled = False

    def on_flow(self, fields: list[Any]) -> None:
        if fields[6] is not None:
            their_count = self.delivery_count if fields[5] is None else int(fields[5])
            self.credit = max(0, their_count + int(fields[6]) - self.delivery_count)
        self.drain = bool(fields[8])
        self.pump()
        if fields[9]:  # echo
            self.send_flow()

    def send_flow(self) -> None:
        self.conn.send(self.session.flow(self.handle, self.delivery_count, self.credit, self.drain))

    def finish_drain(self) -> None:
        """Nothing left to send: a draining receiver gets its credit consumed."""
        if self.drain and self.credit > 0:
            self.delivery_count += self.credit
            self.credit = 0
            self.send_flow()

    def wake(self) -> None:
        if not self._scheduled and not self.closed and self.credit > 0:
            self._scheduled = True
            self.conn.loop.call_soon(self._scheduled_pump)

    def _scheduled_pump(self) -> None:
        self._scheduled = False
        self.pump()
        self.conn.flush()

    def pump(self) -> None:
        raise NotImplementedError


class ReplyLink(OutboundLink):
    """Reply side of ``$cbs`` / ``$management``."""

    def __init__(
        self, conn: Connection, session: Session, handle: int, fields: list[Any], node: str
    ) -> None:
        super().__init__(conn, session, handle, fields)
        self.node = node
        self.address = address_of(self.target)
        self._queue: deque[bytes] = deque()

    def enqueue(self, payload: bytes) -> None:
        self._queue.append(payload)
        self.pump()

    def pump(self) -> None:
        out: list[Any] = []
        while self._queue and self.credit > 0 and not self.closed:
            payload = self._queue[0]
            if not self.conn.add_delivery(self.session, self, [payload], len(payload), out):
                break
            self._queue.popleft()
        self.conn.send_many(out)
        if not self._queue:
            self.finish_drain()


class PartitionLink(OutboundLink):
    """A consumer's link to one partition of one consumer group."""

    def __init__(
        self,
        conn: Connection,
        session: Session,
        handle: int,
        fields: list[Any],
        partition: Partition,
        consumer_group: str,
        start: StartPosition | None,
    ) -> None:
        super().__init__(conn, session, handle, fields)
        self.partition = partition
        self.consumer_group = consumer_group
        epoch = self.remote_properties.get(Symbol(EPOCH))
        self.epoch: int | None = None if epoch is None else int(epoch)
        self.runtime_metric = RUNTIME_METRIC in self.desired_capabilities
        self.next_seq = _start_sequence(partition, start)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.partition.hub.lower(), self.consumer_group.lower(), self.partition.id)

    def attach_reply(self, offered: list[str] | None = None) -> bytes:
        return super().attach_reply([RUNTIME_METRIC] if self.runtime_metric else None)

    def opened(self) -> None:
        self.partition.listeners.add(self.wake)

    def released(self) -> None:
        self.partition.listeners.discard(self.wake)
        self.conn.broker.receivers.remove(self)

    def pump(self) -> None:
        part = self.partition
        conn = self.conn
        while self.credit > 0 and not self.closed and not conn.paused:
            self.next_seq = max(self.next_seq, part.begin_seq)
            events = part.read(self.next_seq, min(self.credit, _READ_EVENTS), _READ_BYTES)
            if not events:
                break
            annotations = b""
            if self.runtime_metric:
                annotations = message.delivery_annotations(
                    part.last_seq, part.last_offset, part.last_ms, int(time.time() * 1000)
                )
            out: list[Any] = []
            sent = 0
            for blob, head in events:
                if annotations:
                    parts = [blob[:head], annotations, blob[head:]]
                    size = len(blob) + len(annotations)
                else:
                    parts, size = [blob], len(blob)
                if not conn.add_delivery(self.session, self, parts, size, out):
                    break
                sent += 1
            self.next_seq += sent
            conn.send_many(out)
            if sent < len(events):
                break
        if self.next_seq >= part.next_seq:
            self.finish_drain()


def _is_list(value: Any) -> bool:
    return isinstance(value, Described) and isinstance(value.value, list) and bool(value.value)


def _start_sequence(partition: Partition, start: StartPosition | None) -> int:
    if start is None or (start.value is None and not start.latest):
        return partition.begin_seq
    if start.latest:
        return partition.next_seq
    assert start.value is not None
    return partition.seek(start.field, start.value, start.inclusive)


def source_filter(source: Any) -> str | None:
    """The selector-filter expression of an attach's source, if any."""
    if not _is_list(source) or len(source.value) < 8 or not source.value[7]:
        return None
    for key, value in source.value[7].items():
        if str(key) == "apache.org:selector-filter:string":
            return str(value.value if isinstance(value, Described) else value)
    return None


def address_of(terminus: Any) -> str | None:
    if _is_list(terminus) and terminus.value[0] is not None:
        return str(terminus.value[0])
    return None
