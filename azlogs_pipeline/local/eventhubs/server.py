"""The emulator's public face: an asyncio AMQP server on loopback, run in a background thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from . import frames
from .broker import Broker
from .codec import Described, ULong, encode
from .connection import Connection
from .message import APPLICATION_PROPERTIES, DATA, Publication
from .store import EventStore

T = TypeVar("T")

DEFAULT_SAS_KEY_NAME = "RootManageSharedAccessKey"
DEFAULT_SAS_KEY = "SAS_KEY_VALUE"


class EventHubsEmulator:
    """A local Event Hubs namespace that the real azure-eventhub clients talk to over AMQP.

    ``port=0`` picks a free port (read ``emu.port`` after ``start()``). With ``data_dir`` the
    events are kept in per-partition log files there, so a restarted emulator still has them;
    without it they live in memory. ``retention_events`` keeps at most that many newest events
    per partition. A publication (a single event or a whole batch) larger than
    ``max_message_bytes`` is rejected with ``amqp:link:message-size-exceeded``, as the service does.
    """

    def __init__(
        self,
        hubs: Sequence[str] = ("adlogs",),
        partitions: int = 4,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: str | Path | None = None,
        retention_events: int | None = None,
        max_message_bytes: int = 1024 * 1024,
        max_frame_size: int = 1024 * 1024,
    ) -> None:
        if not hubs:
            raise ValueError("at least one hub is needed")
        if max_frame_size < 4096:
            raise ValueError("max_frame_size must be at least 4096")
        self.hubs = list(hubs)
        self.partitions = partitions
        self.host = host
        self._requested_port = port
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.retention_events = retention_events
        self.max_message_bytes = max_message_bytes
        self.max_frame_size = max_frame_size
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Broker | None = None
        self._server: asyncio.AbstractServer | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> EventHubsEmulator:
        """Start listening; returns once the port is bound (raises if it cannot be).

        After ``stop()`` the emulator can be started again: it reloads ``data_dir`` and listens
        on the same port as before, so connection strings handed out earlier stay valid.
        """
        if self._thread is not None:
            raise RuntimeError("emulator already started")
        started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run, args=(started,), name="eventhubs-emulator", daemon=True
        )
        self._thread.start()
        try:
            started.result(timeout=60)
        except BaseException:
            self._thread.join(timeout=5)
            self._thread = None
            raise
        return self

    def _run(self, started: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            store = EventStore(self.hubs, self.partitions, self.data_dir, self.retention_events)
            self._broker = Broker(store, loop, self.max_message_bytes, self.max_frame_size)
            broker = self._broker
            self._server = loop.run_until_complete(
                loop.create_server(
                    lambda: Connection(broker),
                    self.host,
                    self._port or self._requested_port,
                    reuse_address=True,
                    backlog=1024,
                )
            )
            self._port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:
            started.set_exception(exc)
            loop.close()
            return
        started.set_result(None)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def stop(self) -> None:
        """Close every connection, flush and fsync persisted events, stop the thread."""
        if self._thread is None or self._loop is None:
            return
        loop = self._loop
        if loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=30)
            loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=30)
        self._thread = None
        self._loop = None

    async def _shutdown(self) -> None:
        assert self._server is not None and self._broker is not None
        self._server.close()
        for conn in list(self._broker.connections):
            conn.close(frames.error("amqp:connection:forced", "The emulator is shutting down."))
        await asyncio.sleep(0.05)
        for conn in list(self._broker.connections):
            if conn.transport is not None:
                conn.transport.abort()
        self._broker.store.close()

    def __enter__(self) -> EventHubsEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ addressing

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("emulator not started")
        return self._port

    def connection_string(self, hub: str | None = None) -> str:
        """Connection string for the SDK (``UseDevelopmentEmulator=true`` turns TLS off)."""
        value = (
            f"Endpoint=sb://{self.host}:{self.port};SharedAccessKeyName={DEFAULT_SAS_KEY_NAME};"
            f"SharedAccessKey={DEFAULT_SAS_KEY};UseDevelopmentEmulator=true"
        )
        return value + (f";EntityPath={hub}" if hub else "")

    # ------------------------------------------------------------ test helpers

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the emulator's loop thread (the only thread touching the store)."""
        if self._loop is None:
            raise RuntimeError("emulator not started")
        result: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                result.set_result(fn(*args))
            except BaseException as exc:
                result.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return result.result(timeout=60)

    def _partition(self, hub: str, partition_id: str) -> Any:
        assert self._broker is not None
        found = self._broker.store.hub(hub)
        part = found.partition(str(partition_id)) if found else None
        if part is None:
            raise KeyError(f"no partition {partition_id!r} in hub {hub!r}")
        return part

    def apply_retention(self, hub: str, partition_id: str, keep_last: int) -> int:
        """Drop all but the newest ``keep_last`` events now; return how many were dropped."""
        return self._call(lambda: self._partition(hub, partition_id).keep_last(keep_last))

    def partition_properties(self, hub: str, partition_id: str) -> dict[str, Any]:
        """Same figures the management node reports (without a client round trip)."""
        return self._call(lambda: self._partition(hub, partition_id).properties())

    def publish(
        self,
        hub: str,
        bodies: Iterable[bytes],
        partition_id: str | None = None,
        partition_key: str | None = None,
        properties: dict[str, Any] | None = None,
    ) -> int:
        """Enqueue events directly (no AMQP round trip): fast preloading for tests and benches.

        The call is one publication: without ``partition_id`` all events go to the partition
        of ``partition_key``, or without a key to the next partition in round-robin order.
        """
        app = b""
        if properties:
            app = encode(Described(ULong(APPLICATION_PROPERTIES), properties))
        pubs = []
        for body in bodies:
            data = encode(Described(ULong(DATA), bytes(body)))
            pubs.append(Publication(b"", b"", 0, [app, data], partition_key))

        def run() -> int:
            assert self._broker is not None
            found = self._broker.store.hub(hub)
            if found is None:
                raise KeyError(f"no hub {hub!r}")
            self._broker.store.publish(found, partition_id, pubs)
            return len(pubs)

        return self._call(run)
