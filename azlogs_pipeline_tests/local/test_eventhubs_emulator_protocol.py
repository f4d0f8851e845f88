"""Wire-level checks of the Event Hubs emulator.

The emulator's own codec is checked against the decoder of azure-eventhub's pyamqp (an
independent implementation), and a raw socket client drives the parts the SDK never exercises
deliberately: split reads, exact link credit, the session window, the standalone CLI.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from azure.eventhub import EventData, EventHubProducerClient
from azure.eventhub._buffered_producer._partition_resolver import generate_hash_code
from azure.eventhub._pyamqp._decode import decode_frame, decode_payload

from azlogs_pipeline.local.eventhubs import EventHubsEmulator, frames, message
from azlogs_pipeline.local.eventhubs.codec import (
    Array,
    Described,
    Symbol,
    Timestamp,
    UByte,
    UInt,
    ULong,
    UShort,
    decode,
    encode,
)
from azlogs_pipeline.local.eventhubs.hashing import lookup3

SELECTOR = "apache.org:selector-filter:string"


# ---------------------------------------------------------------- codec and frames


def test_codec_round_trips_every_type() -> None:
    value = {
        Symbol("sym"): [None, True, False, UByte(7), UShort(65000), UInt(0), UInt(300)],
        "long": [0, -1, 127, -129, 2**40, ULong(0), ULong(255), ULong(2**63)],
        "text": ["", "é" * 200, b"\x00\x01", b"x" * 300],
        "time": Timestamp(1_700_000_000_123),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "array": Array(["a", "b"], Symbol),
        "described": Described(ULong(0x77), {"nested": [1.5, []]}),
    }
    encoded = encode(value)
    decoded, end = decode(encoded)
    assert end == len(encoded)
    assert decoded == value
    assert type(decoded[Symbol("sym")][5]) is UInt
    assert encode(decoded) == encoded


def test_every_performative_has_its_full_field_count() -> None:
    samples = [
        frames.open_frame("c", 65536, 100),
        frames.begin_frame(1, 1, 0, 10, 10),
        frames.attach_frame(
            1,
            name="l",
            handle=0,
            role=True,
            snd_settle_mode=None,
            rcv_settle_mode=None,
            source=None,
            target=None,
            initial_delivery_count=None,
            max_message_size=None,
        ),
        frames.flow_frame(
            1, next_incoming_id=0, incoming_window=1, next_outgoing_id=0, outgoing_window=1
        ),
        frames.disposition_frame(1, 3, 3, frames.ACCEPTED),
        frames.detach_frame(1, 0, True),
        frames.end_frame(1),
        frames.close_frame(),
    ]
    for data in samples:
        code, fields = decode_frame(memoryview(data)[8:])
        assert len(fields) == frames.FIELD_COUNTS[code], hex(code)
        assert struct.unpack(">I", data[:4])[0] == len(data)


def test_transfers_to_consumers_are_pre_settled() -> None:
    header = frames.transfer_header(1, 2, 3, 4, more=False, payload_size=5)
    code, fields = decode_frame(memoryview(header + b"12345")[8:])
    assert code == frames.TRANSFER
    assert fields[:6] == [2, 3, b"\x00\x00\x00\x04", 0, True, False]
    assert bytes(fields[11]) == b"12345"
    assert len(header) == frames.TRANSFER_OVERHEAD


def test_stored_event_decodes_as_the_sdk_expects() -> None:
    body = encode(Described(ULong(message.DATA), b"payload"))
    pub = message.Publication(b"", b"", 0, [body], "key-1")
    blob, head = message.stored_event(pub, 41, 123456, 1_700_000_000_000)
    annotations = message.delivery_annotations(50, 999, 1_700_000_000_500, 1_700_000_000_900)
    decoded = decode_payload(memoryview(blob[:head] + annotations + blob[head:]))
    assert decoded.data == [b"payload"]
    assert decoded.message_annotations == {
        b"x-opt-sequence-number": 41,
        b"x-opt-offset": b"123456",
        b"x-opt-enqueued-time": 1_700_000_000_000,
        b"x-opt-partition-key": b"key-1",
    }
    assert (decoded.delivery_annotations or {})[b"last_enqueued_offset"] == b"999"


def test_partition_key_hash_matches_the_sdk_resolver() -> None:
    for key in ["", "a", "user-42@contoso.com", "x" * 12, "y" * 13, "tenant/" * 9]:
        if not key:
            continue
        c, b = lookup3(key.encode())
        code = (c ^ b) & 0xFFFF
        assert (code - 0x10000 if code >= 0x8000 else code) == generate_hash_code(key)


# ---------------------------------------------------------------- raw AMQP client


class RawClient:
    """Just enough AMQP to poke the emulator; frames are parsed with pyamqp's decoder."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def send(self, data: bytes, piece: int | None = None) -> None:
        if piece is None:
            self.sock.sendall(data)
            return
        for i in range(0, len(data), piece):
            self.sock.sendall(data[i : i + piece])

    def _fill(self, n: int) -> None:
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("emulator closed the connection")
            self.buf += chunk

    def read_header(self) -> bytes:
        self._fill(8)
        header, self.buf = self.buf[:8], self.buf[8:]
        return header

    def read_frame(self) -> tuple[int, list[Any]]:
        self._fill(8)
        size = struct.unpack(">I", self.buf[:4])[0]
        self._fill(size)
        data, self.buf = self.buf[:size], self.buf[size:]
        return decode_frame(memoryview(data)[8:])

    def no_frame_within(self, seconds: float) -> bool:
        self.sock.settimeout(seconds)
        try:
            self._fill(len(self.buf) + 1)
        except TimeoutError:
            return True
        finally:
            self.sock.settimeout(5)
        return False

    def handshake(self, piece: int | None = None, incoming_window: int = 1000) -> None:
        self.send(frames.SASL_HEADER, piece)
        assert self.read_header() == frames.SASL_HEADER
        code, fields = self.read_frame()
        assert code == frames.SASL_MECHANISMS and b"ANONYMOUS" in fields[0]
        init = frames.frame(
            0, frames.SASL_INIT, [Symbol("ANONYMOUS"), b"", None], frames.FRAME_SASL
        )
        self.send(init, piece)
        assert self.read_frame() == (frames.SASL_OUTCOME, [0, None])
        open_ = frames.frame(0, frames.OPEN, ["raw", None, UInt(65536), None, *[None] * 6])
        begin = frames.frame(
            1,
            frames.BEGIN,
            [None, UInt(0), UInt(incoming_window), UInt(1000), None, None, None, None],
        )
        self.send(frames.AMQP_HEADER + open_ + begin, piece)
        assert self.read_header() == frames.AMQP_HEADER
        code, fields = self.read_frame()
        assert code == frames.OPEN and len(fields) == 10
        code, fields = self.read_frame()
        assert code == frames.BEGIN and fields[0] == 1

    def attach_receiver(self, address: str, expression: str) -> list[Any]:
        source = Described(
            ULong(0x28),
            [address, *[None] * 6, {Symbol(SELECTOR): Described(Symbol(SELECTOR), expression)}]
            + [None] * 3,
        )
        target = Described(ULong(0x29), ["raw-target", *[None] * 6])
        attach = [
            "raw-link",
            UInt(0),
            True,
            None,
            None,
            source,
            target,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ]
        self.send(frames.frame(1, frames.ATTACH, attach))
        code, fields = self.read_frame()
        assert code == frames.ATTACH and len(fields) == 14
        return fields

    def flow(self, delivery_count: int, credit: int, next_incoming_id: int = 0) -> None:
        self.send(
            frames.flow_frame(
                1,
                next_incoming_id=next_incoming_id,
                incoming_window=1000,
                next_outgoing_id=0,
                outgoing_window=1000,
                handle=0,
                delivery_count=delivery_count,
                link_credit=credit,
            )
        )

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def loaded(eventhubs_emulator: EventHubsEmulator) -> EventHubsEmulator:
    eventhubs_emulator.publish("adlogs", [f"m{i}".encode() for i in range(20)], partition_id="0")
    return eventhubs_emulator


def partition_address(emu: EventHubsEmulator) -> str:
    return f"amqps://127.0.0.1:{emu.port}/adlogs/ConsumerGroups/$Default/Partitions/0"


def test_frames_split_across_reads_and_exact_link_credit(loaded: EventHubsEmulator) -> None:
    client = RawClient(loaded.port)
    client.handshake(piece=1)  # every byte in its own TCP segment
    attach = client.attach_receiver(
        partition_address(loaded), "amqp.annotation.x-opt-offset > '-1'"
    )
    assert attach[2] is False and attach[9] == 0  # sender role, initial delivery count
    assert attach[5] is not None and attach[6] is not None
    client.flow(delivery_count=0, credit=5)
    transfers = [client.read_frame() for _ in range(5)]
    assert all(code == frames.TRANSFER and fields[4] is True for code, fields in transfers)
    sequence = [
        (decode_payload(fields[11]).message_annotations or {})[b"x-opt-sequence-number"]
        for _, fields in transfers
    ]
    assert sequence == [0, 1, 2, 3, 4]
    assert client.no_frame_within(0.3)  # credit used up: nothing more
    client.flow(delivery_count=5, credit=3, next_incoming_id=5)
    more = [client.read_frame() for _ in range(3)]
    assert [decode_payload(f[11]).data for _, f in more] == [[b"m5"], [b"m6"], [b"m7"]]
    assert client.no_frame_within(0.3)
    client.close()


def test_session_window_limits_transfers(loaded: EventHubsEmulator) -> None:
    client = RawClient(loaded.port)
    client.handshake(incoming_window=2)
    client.attach_receiver(
        partition_address(loaded), "amqp.annotation.x-opt-sequence-number >= '10'"
    )
    client.send(
        frames.flow_frame(
            1,
            next_incoming_id=0,
            incoming_window=2,
            next_outgoing_id=0,
            outgoing_window=1000,
            handle=0,
            delivery_count=0,
            link_credit=100,
        )
    )
    first = [client.read_frame() for _ in range(2)]
    assert client.no_frame_within(0.3)
    client.send(
        frames.flow_frame(
            1, next_incoming_id=2, incoming_window=3, next_outgoing_id=0, outgoing_window=1000
        )
    )
    second = [client.read_frame() for _ in range(3)]
    assert client.no_frame_within(0.3)
    bodies = [decode_payload(f[11]).data for _, f in first + second]
    assert bodies == [[b"m10"], [b"m11"], [b"m12"], [b"m13"], [b"m14"]]
    client.close()


def test_bad_filter_and_unknown_partition_are_refused(loaded: EventHubsEmulator) -> None:
    client = RawClient(loaded.port)
    client.handshake()
    client.attach_receiver(partition_address(loaded), "amqp.annotation.x-opt-offset > 'abc'")
    code, fields = client.read_frame()
    assert code == frames.DETACH and fields[1] is True
    assert fields[2][0] == b"amqp:invalid-field"
    client.close()
    client = RawClient(loaded.port)
    client.handshake()
    client.attach_receiver(
        partition_address(loaded)[:-1] + "9", "amqp.annotation.x-opt-offset > '-1'"
    )
    code, fields = client.read_frame()
    assert code == frames.DETACH and fields[2][0] == b"amqp:not-found"
    client.close()


# ---------------------------------------------------------------- CLI


def start_cli(data_dir: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [
            *[sys.executable, "-m", "azlogs_pipeline.local.eventhubs", "--port", "0"],
            *["--hub", "adlogs", "--hub", "other", "--partitions", "2", "--dir", str(data_dir)],
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.startswith("ready 127.0.0.1:"), line
    return proc, int(line.rsplit(":", 1)[1])


@pytest.mark.integration
def test_cli_runs_until_sigterm_and_keeps_events(tmp_path: Path) -> None:
    proc, port = start_cli(tmp_path)
    conn = (
        f"Endpoint=sb://127.0.0.1:{port};SharedAccessKeyName=k;SharedAccessKey=v;"
        "UseDevelopmentEmulator=true;EntityPath=other"
    )
    try:
        with EventHubProducerClient.from_connection_string(conn) as producer:
            producer.send_event(EventData("kept"), partition_id="1")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    assert (tmp_path / "other" / "1.log").stat().st_size > 0

    again = EventHubsEmulator(hubs=["adlogs", "other"], partitions=2, data_dir=tmp_path).start()
    try:
        props = again.partition_properties("other", "1")
        assert props["last_enqueued_sequence_number"] == 0
        assert props["is_partition_empty"] is False
    finally:
        again.stop()
