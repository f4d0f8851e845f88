"""One client TCP connection: protocol headers, SASL, framing, sessions and link attach."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from typing import Any

from . import frames
from .addresses import CBS_NODE, MANAGEMENT_NODE, node_name, parse_entity, parse_selector
from .broker import Broker
from .codec import DecodeError, Described
from .links import (
    InboundLink,
    Link,
    OutboundLink,
    PartitionLink,
    PublishLink,
    RefusedLink,
    ReplyLink,
    RequestLink,
    address_of,
    source_filter,
)

_LOG = logging.getLogger(__name__)

_SIZE = struct.Struct(">I")
CONTAINER_ID = "azlogs-eventhubs-emulator"
SESSION_WINDOW = 0x7FFFFFFF
_WRITE_HIGH_WATER = 4 * 1024 * 1024
_NODES = (CBS_NODE, MANAGEMENT_NODE)


class Session:
    def __init__(self, channel: int, next_incoming_id: int) -> None:
        self.channel = channel  # the emulator answers on the channel the client chose
        self.next_incoming_id = next_incoming_id
        self.next_outgoing_id = 0
        self.next_delivery_id = 0
        self.remote_incoming_window = 0
        self.links: dict[int, Link] = {}  # by the client's handle
        self._handles: dict[int, Link] = {}  # by the emulator's handle

    def flow(
        self, handle: int, delivery_count: int, link_credit: int, drain: bool = False
    ) -> bytes:
        """A flow frame for one of this session's links, with the session's current state."""
        return frames.flow_frame(
            self.channel,
            next_incoming_id=self.next_incoming_id,
            incoming_window=SESSION_WINDOW,
            next_outgoing_id=self.next_outgoing_id,
            outgoing_window=SESSION_WINDOW,
            handle=handle,
            delivery_count=delivery_count,
            link_credit=link_credit,
            available=0,
            drain=drain,
        )

    def new_handle(self) -> int:
        handle = 0
        while handle in self._handles:
            handle += 1
        return handle

    def add(self, link: Link) -> None:
        self.links[link.remote_handle] = link
        self._handles[link.handle] = link

    def forget(self, link: Link) -> None:
        if self.links.get(link.remote_handle) is link:
            del self.links[link.remote_handle]
        if self._handles.get(link.handle) is link:
            del self._handles[link.handle]

    def all_links(self) -> list[Link]:
        return list(self._handles.values())


class Connection(asyncio.Protocol):
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.loop = broker.loop
        self.transport: asyncio.Transport | None = None
        self.paused = False
        self.peer_max_frame = 512
        self._buf = bytearray()
        self._stage = "header"
        self._out: list[Any] = []
        self._sessions: dict[int, Session] = {}

    # ------------------------------------------------------------ asyncio protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER)
        self.broker.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.broker.connections.discard(self)
        for session in self._sessions.values():
            for link in session.all_links():
                link.release()
        self._sessions.clear()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        for session in self._sessions.values():
            for link in session.all_links():
                if isinstance(link, OutboundLink):
                    link.wake()

    def data_received(self, data: bytes) -> None:
        self._buf += data
        try:
            self._process()
        except (DecodeError, ValueError, KeyError, TypeError, IndexError) as exc:
            _LOG.warning("closing connection after a protocol error: %r", exc)
            self.close(frames.error("amqp:decode-error", str(exc)))
        self.flush()

    # ------------------------------------------------------------ output

    def send(self, data: bytes) -> None:
        self._out.append(data)

    def send_many(self, parts: list[Any]) -> None:
        if parts:
            self._out.extend(parts)
            self.flush()

    def flush(self) -> None:
        if not self._out:
            return
        out, self._out = self._out, []
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(out))

    def add_delivery(
        self, session: Session, link: OutboundLink, parts: list[Any], size: int, out: list[Any]
    ) -> bool:
        """Queue one pre-settled delivery, split to the peer's max frame size if needed.

        Returns False (and queues nothing) when the session window cannot take it now.
        """
        room = self.peer_max_frame - frames.TRANSFER_OVERHEAD
        count = max(1, -(-size // room))
        if count > session.remote_incoming_window:
            return False
        delivery_id = session.next_delivery_id
        tag = link.delivery_count
        if count == 1:
            out.append(
                frames.transfer_header(session.channel, link.handle, delivery_id, tag, False, size)
            )
            out.extend(parts)
        else:
            data = memoryview(b"".join(parts))
            for i in range(count):
                chunk = data[i * room : (i + 1) * room]
                more = i < count - 1
                out.append(
                    frames.transfer_header(
                        session.channel, link.handle, delivery_id, tag, more, len(chunk)
                    )
                )
                out.append(chunk)
        session.next_delivery_id += 1
        session.next_outgoing_id += count
        session.remote_incoming_window -= count
        link.delivery_count += 1
        link.credit -= 1
        return True

    def close(self, err: Described | None = None) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self._stage == "open":
            self.send(frames.close_frame(err))
        self.flush()
        self.transport.close()

    # ------------------------------------------------------------ input

    def _process(self) -> None:
        buf = self._buf
        pos = 0
        while self.transport is not None and not self.transport.is_closing():
            available = len(buf) - pos
            if self._stage in ("header", "amqp-header"):
                if available < 8:
                    break
                self._on_header(bytes(buf[pos : pos + 8]))
                pos += 8
                continue
            if available < 8:
                break
            (size,) = _SIZE.unpack_from(buf, pos)
            if size < 8 or size > self.broker.max_frame_size:
                self.close(frames.error("amqp:connection:framing-error", f"frame size {size}"))
                break
            if available < size:
                break
            frame = frames.parse_frame(memoryview(buf[pos : pos + size]))  # a copy: buf moves on
            pos += size
            self._on_frame(frame)
        del buf[:pos]

    def _on_header(self, header: bytes) -> None:
        if header == frames.SASL_HEADER and self._stage == "header":
            self.send(frames.SASL_HEADER + frames.sasl_mechanisms_frame(["ANONYMOUS", "PLAIN"]))
            self._stage = "sasl"
        elif header == frames.AMQP_HEADER:
            self.send(frames.AMQP_HEADER)
            self._stage = "open"
        else:
            self.send(frames.AMQP_HEADER)
            self.flush()
            assert self.transport is not None
            self.transport.close()

    def _on_frame(self, frame: frames.Frame) -> None:
        if frame.code == -1:  # empty (heartbeat) frame
            return
        if self._stage == "sasl":
            if frame.code == frames.SASL_INIT:
                self.send(frames.sasl_outcome_frame(0))
                self._stage = "amqp-header"
            return
        handler = self._HANDLERS.get(frame.code)
        if handler is not None:
            handler(self, frame)

    def _on_open(self, frame: frames.Frame) -> None:
        max_frame = frame.fields[2]
        self.peer_max_frame = 0xFFFFFFFF if max_frame is None else max(512, int(max_frame))
        self.send(frames.open_frame(CONTAINER_ID, self.broker.max_frame_size, 0xFFFF))

    def _on_close(self, frame: frames.Frame) -> None:
        self.send(frames.close_frame())
        self.flush()
        assert self.transport is not None
        self.transport.close()

    def _on_begin(self, frame: frames.Frame) -> None:
        session = Session(frame.channel, int(frame.fields[1] or 0))
        session.remote_incoming_window = int(frame.fields[2] or 0)
        self._sessions[frame.channel] = session
        self.send(
            frames.begin_frame(frame.channel, frame.channel, 0, SESSION_WINDOW, SESSION_WINDOW)
        )

    def _on_end(self, frame: frames.Frame) -> None:
        session = self._sessions.pop(frame.channel, None)
        if session is not None:
            for link in session.all_links():
                link.release()
        self.send(frames.end_frame(frame.channel))

    def _on_flow(self, frame: frames.Frame) -> None:
        session = self._sessions.get(frame.channel)
        if session is None:
            return
        f = frame.fields
        their_next_incoming = session.next_outgoing_id if f[0] is None else int(f[0])
        session.remote_incoming_window = (
            their_next_incoming + int(f[1] or 0) - session.next_outgoing_id
        )
        if f[4] is not None:
            link = session.links.get(int(f[4]))
            if link is not None:
                link.on_flow(f)
        else:
            for link in session.all_links():
                if isinstance(link, OutboundLink):
                    link.pump()

    def _on_transfer(self, frame: frames.Frame) -> None:
        session = self._sessions.get(frame.channel)
        if session is None:
            return
        session.next_incoming_id += 1
        link = session.links.get(int(frame.fields[0]))
        if isinstance(link, InboundLink):
            assert frame.payload is not None
            link.on_transfer(frame.fields, frame.payload)

    def _on_disposition(self, frame: frames.Frame) -> None:
        """Transfers to consumers are pre-settled; nothing to do."""

    def _on_detach(self, frame: frames.Frame) -> None:
        session = self._sessions.get(frame.channel)
        if session is None:
            return
        link = session.links.get(int(frame.fields[0]))
        if link is None:
            return
        session.forget(link)
        link.release()
        self.send(frames.detach_frame(session.channel, link.handle, bool(frame.fields[1])))

    # ------------------------------------------------------------ attach

    def _on_attach(self, frame: frames.Frame) -> None:
        session = self._sessions.get(frame.channel)
        if session is None:
            return
        fields = frame.fields
        handle = session.new_handle()
        client_receives = bool(fields[2])
        address = address_of(fields[5] if client_receives else fields[6])
        node = node_name(address)
        link: Link
        error: Described | None = None
        if node in _NODES:
            cls = ReplyLink if client_receives else RequestLink
            link = cls(self, session, handle, fields, node)
        elif client_receives:
            link, error = self._partition_link(session, handle, fields, address)
        else:
            link, error = self._publish_link(session, handle, fields, address)
        session.add(link)
        self.send(link.attach_reply())
        if error is not None:
            link.detach(error)
            return
        link.opened()
        if isinstance(link, PartitionLink):
            refused = self.broker.receivers.admit(link)
            if refused is not None:
                link.detach(frames.error("amqp:link:stolen", refused))

    def _not_found(self, address: str | None) -> Described:
        return frames.error(
            "amqp:not-found",
            f"The messaging entity '{address}' could not be found. Known event hubs: "
            + ", ".join(self.broker.store.hub_names()),
        )

    def _publish_link(
        self, session: Session, handle: int, fields: list[Any], address: str | None
    ) -> tuple[Link, Described | None]:
        entity = parse_entity(address or "")
        hub = self.broker.store.hub(entity.hub) if entity else None
        if entity is None or hub is None or entity.consumer_group is not None:
            return RefusedLink(self, session, handle, fields), self._not_found(address)
        if entity.partition_id is not None and hub.partition(entity.partition_id) is None:
            return RefusedLink(self, session, handle, fields), self._not_found(address)
        return PublishLink(self, session, handle, fields, hub, entity.partition_id), None

    def _partition_link(
        self, session: Session, handle: int, fields: list[Any], address: str | None
    ) -> tuple[Link, Described | None]:
        entity = parse_entity(address or "")
        hub = self.broker.store.hub(entity.hub) if entity else None
        part = None
        if entity is not None and hub is not None and entity.partition_id is not None:
            part = hub.partition(entity.partition_id)
        if entity is None or part is None:
            return RefusedLink(self, session, handle, fields), self._not_found(address)
        try:
            expression = source_filter(fields[5])
            start = parse_selector(expression) if expression is not None else None
        except ValueError as exc:
            refused = RefusedLink(self, session, handle, fields)
            return refused, frames.error("amqp:invalid-field", str(exc))
        group = entity.consumer_group or "$Default"
        return PartitionLink(self, session, handle, fields, part, group, start), None

    def reply_link(self, node: str, reply_to: str | None) -> ReplyLink | None:
        """The link a reply for ``node`` goes out on: by reply-to address, else by node."""
        candidates = [
            link
            for session in self._sessions.values()
            for link in session.all_links()
            if isinstance(link, ReplyLink) and link.node == node and not link.closed
        ]
        for link in candidates:
            if reply_to is not None and link.address == reply_to:
                return link
        return candidates[0] if candidates else None

    _HANDLERS = {
        frames.OPEN: _on_open,
        frames.CLOSE: _on_close,
        frames.BEGIN: _on_begin,
        frames.END: _on_end,
        frames.ATTACH: _on_attach,
        frames.FLOW: _on_flow,
        frames.TRANSFER: _on_transfer,
        frames.DISPOSITION: _on_disposition,
        frames.DETACH: _on_detach,
    }
