"""Run the emulator in the foreground until SIGTERM / SIGINT.

Prints ``ready <host>:<port>`` on stdout once it listens.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from .server import EventHubsEmulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m azlogs_pipeline.local.eventhubs",
        description="Local Event Hubs emulator (AMQP 1.0 on loopback, no TLS).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5672, help="0 picks a free port")
    parser.add_argument(
        "--hub", action="append", dest="hubs", help="event hub name (repeatable; default adlogs)"
    )
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--dir", type=Path, default=None, help="persist events in this directory")
    parser.add_argument("--retention-events", type=int, default=None)
    parser.add_argument("--max-message-bytes", type=int, default=1024 * 1024)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)

    emulator = EventHubsEmulator(
        hubs=args.hubs or ["adlogs"],
        partitions=args.partitions,
        host=args.host,
        port=args.port,
        data_dir=args.dir,
        retention_events=args.retention_events,
        max_message_bytes=args.max_message_bytes,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        emulator.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"ready {emulator.host}:{emulator.port}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
