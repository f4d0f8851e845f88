"""Throughput of the local Event Hubs emulator with the real azure-eventhub clients.

For each body size: publish N events with EventHubProducerClient (full batches), drain them with
one EventHubConsumerClient (receive_batch, max_batch_size 300), then drain them again with a
minimal raw AMQP reader to show what the emulator itself can push. MB/s counts body bytes.

    .venv/bin/python bench/bench_emulator.py                 # emulator in its own process
    .venv/bin/python bench/bench_emulator.py --in-process    # emulator thread in this process
    .venv/bin/python bench/bench_emulator.py --data-dir /tmp/ehdata   # persisted (log files)
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from azure.eventhub import EventData, EventHubConsumerClient, EventHubProducerClient

from azlogs_pipeline.local.eventhubs import EventHubsEmulator, frames
from azlogs_pipeline.local.eventhubs.codec import Described, Symbol, UInt, ULong

SELECTOR = "apache.org:selector-filter:string"
# Frame header 8, descriptor 3, list8 header 3, handle 5, delivery-id 5, tag 6, format 1, settled 1.
_MORE_OFFSET = 8 + 3 + 3 + 5 + 5 + 6 + 1 + 1


def conn_str(port: int, hub: str) -> str:
    return (
        f"Endpoint=sb://127.0.0.1:{port};SharedAccessKeyName=bench;SharedAccessKey=bench;"
        f"UseDevelopmentEmulator=true;EntityPath={hub}"
    )


def publish(conn: str, size: int, count: int) -> float:
    body = os.urandom(size)
    started = time.perf_counter()
    with EventHubProducerClient.from_connection_string(conn) as producer:
        sent = 0
        while sent < count:
            batch = producer.create_batch(partition_id="0")
            try:
                while sent < count:
                    batch.add(EventData(body))
                    sent += 1
            except ValueError:
                pass
            producer.send_batch(batch)
    return time.perf_counter() - started


def drain_sdk(conn: str, count: int) -> float:
    client = EventHubConsumerClient.from_connection_string(conn, consumer_group="$Default")
    received = [0]
    done = threading.Event()

    def on_batch(_ctx: Any, batch: list[EventData]) -> None:
        received[0] += len(batch)
        if received[0] >= count:
            done.set()

    thread = threading.Thread(
        target=client.receive_batch,
        kwargs={
            "on_event_batch": on_batch,
            "partition_id": "0",
            "starting_position": "-1",
            "max_batch_size": 300,
        },
        daemon=True,
    )
    started = time.perf_counter()
    thread.start()
    if not done.wait(600):
        raise TimeoutError(f"SDK drain got {received[0]} of {count}")
    elapsed = time.perf_counter() - started
    client.close()
    return elapsed


def drain_raw(port: int, hub: str, count: int) -> float:
    """A bare AMQP receiver with unlimited credit: the emulator's own ceiling."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    address = f"amqps://127.0.0.1:{port}/{hub}/ConsumerGroups/$Default/Partitions/0"
    selector = Described(Symbol(SELECTOR), "amqp.annotation.x-opt-offset > '-1'")
    filters = {Symbol(SELECTOR): selector}
    source = Described(ULong(0x28), [address, *[None] * 6, filters, None, None, None])
    target = Described(ULong(0x29), ["bench", *[None] * 6])
    window = UInt(1 << 30)
    sasl_init = frames.frame(0, frames.SASL_INIT, [Symbol("ANONYMOUS"), b"", None], 1)
    setup = b"".join(
        [
            sasl_init,
            frames.AMQP_HEADER,
            frames.frame(0, frames.OPEN, ["bench", None, UInt(4 << 20), *[None] * 7]),
            frames.frame(1, frames.BEGIN, [None, UInt(0), window, window, *[None] * 4]),
            frames.frame(
                1, frames.ATTACH, ["b", UInt(0), True, None, None, source, target] + [None] * 7
            ),
            frames.flow_frame(
                1,
                next_incoming_id=0,
                incoming_window=1 << 30,
                next_outgoing_id=0,
                outgoing_window=1 << 30,
                handle=0,
                delivery_count=0,
                link_credit=count,
            ),
        ]
    )
    sock.sendall(frames.SASL_HEADER + setup)
    buf = bytearray()
    pos = 0
    headers = 0
    received = 0
    more_at: int | None = None
    started = time.perf_counter()
    while received < count:
        chunk = sock.recv(8 << 20)
        if not chunk:
            raise ConnectionError("emulator closed the connection")
        buf += chunk
        while True:
            if headers < 2 and len(buf) - pos >= 8 and buf[pos : pos + 4] == b"AMQP":
                headers += 1
                pos += 8
                continue
            if len(buf) - pos < 8:
                break
            (size,) = struct.unpack_from(">I", buf, pos)
            if len(buf) - pos < size:
                break
            if buf[pos + 10] == frames.TRANSFER:
                if more_at is None:  # learn where the emulator's fixed layout keeps "more"
                    fields = frames.parse_frame(memoryview(bytes(buf[pos : pos + size]))).fields
                    more_at = _MORE_OFFSET
                    assert bool(fields[5]) == (buf[pos + more_at] == 0x41)
                received += buf[pos + more_at] == 0x42
            pos += size
        del buf[:pos]
        pos = 0
    elapsed = time.perf_counter() - started
    sock.close()
    return elapsed


def report(label: str, size: int, count: int, seconds: float) -> None:
    kb = f"{size // 1024} KB bodies"
    rate = count / seconds
    mbps = count * size / seconds / 1e6
    print(f"{label}, {kb}: {rate:,.0f} events/s, {mbps:,.0f} MB/s", flush=True)


def start_emulator(args: argparse.Namespace, hubs: list[str]) -> tuple[Any, int]:
    if args.in_process:
        emu = EventHubsEmulator(
            hubs=hubs, partitions=1, data_dir=args.data_dir, max_message_bytes=1024 * 1024
        ).start()
        return emu, emu.port
    command = [sys.executable, "-m", "azlogs_pipeline.local.eventhubs", "--port", "0"]
    command += ["--partitions", "1"] + [a for hub in hubs for a in ("--hub", hub)]
    if args.data_dir:
        command += ["--dir", str(args.data_dir)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("ready "):
        raise RuntimeError(f"emulator did not start: {line!r}")
    return proc, int(line.rsplit(":", 1)[1])


def stop_emulator(handle: Any) -> None:
    if isinstance(handle, EventHubsEmulator):
        handle.stop()
    else:
        handle.terminate()
        handle.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=30_000, help="number of 1 KB events")
    parser.add_argument("--large", type=int, default=2_000, help="number of 200 KB events")
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    if args.data_dir is not None:
        args.data_dir = Path(tempfile.mkdtemp(prefix="bench-", dir=args.data_dir))
    runs = [("small", 1024, args.small), ("large", 200 * 1024, args.large)]
    handle, port = start_emulator(args, [hub for hub, _, _ in runs])
    mode = "in-process" if args.in_process else "separate process"
    print(f"emulator: {mode}, {'log files' if args.data_dir else 'in memory'}", flush=True)
    try:
        for hub, size, count in runs:
            conn = conn_str(port, hub)
            report("SDK producer->emulator", size, count, publish(conn, size, count))
            report("emulator->SDK consumer", size, count, drain_sdk(conn, count))
            report("emulator->raw AMQP reader", size, count, drain_raw(port, hub, count))
    finally:
        stop_emulator(handle)


if __name__ == "__main__":
    main()
