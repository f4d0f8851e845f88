"""Events whose AMQP body is a value or a sequence section, sent with the real SDK: none stops a
drain, each is parsed or dead-lettered with its body type, and every normal event behind it lands."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
import pyarrow.dataset as ds
from azure.eventhub import EventData, EventHubProducerClient
from azure.eventhub.amqp import AmqpAnnotatedMessage

from azlogs_pipeline.ingest.drain import drain_partition
from azlogs_pipeline.ingest.records import record_id
from azlogs_pipeline.lake.paths import deadletter_root
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.emulator import receive_events
from azlogs_pipeline_tests.fixtures.settings import local_settings
from azlogs_pipeline_tests.ingest.test_drain import HUB, lake_ids, signin

AS_VALUE = signin(900)
"""Sent as a map value body: its record lands like one sent in a Data section."""


def _poison() -> list[AmqpAnnotatedMessage]:
    envelope = orjson.dumps({"records": [signin(901)]})
    return [
        AmqpAnnotatedMessage(value_body={"records": [AS_VALUE]}),
        AmqpAnnotatedMessage(sequence_body=[[1, 2, 3]]),
        AmqpAnnotatedMessage(value_body=envelope.decode()),
        AmqpAnnotatedMessage(value_body=envelope),
        AmqpAnnotatedMessage(value_body="not json"),
        AmqpAnnotatedMessage(value_body={b"k": b"\xff\xfe"}),
        AmqpAnnotatedMessage(value_body=uuid.UUID("12345678-1234-5678-1234-567812345678")),
        AmqpAnnotatedMessage(value_body=None),
        AmqpAnnotatedMessage(sequence_body=[[1, 2], ["x"]]),
    ]


def _send(conn_str: str, messages: list[Any]) -> None:
    with EventHubProducerClient.from_connection_string(conn_str) as producer:
        for message in messages:
            batch = producer.create_batch(partition_id="0")
            batch.add(message)
            producer.send_batch(batch)


def test_the_emulator_passes_value_and_sequence_bodies_through(
    eventhubs_emulator_factory: Any,
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    conn = emulator.connection_string(HUB)
    _send(conn, _poison())

    got = receive_events(conn, "0", expected=len(_poison()))

    kinds = [event.body_type.value for event in got]
    assert kinds == ["value", "sequence", *["value"] * 6, "sequence"]
    assert got[0].body[b"records"][0][b"properties"][b"id"] == b"s-900"
    assert list(got[1].body) == [[1, 2, 3]]
    assert got[5].body == {b"k": b"\xff\xfe"}
    assert got[6].body == uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert got[7].body is None
    assert list(got[8].body) == [[1, 2], [b"x"]]


def test_value_and_sequence_bodies_never_block_a_partition(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    conn = emulator.connection_string(HUB)
    normal = [signin(n, n) for n in range(20)]
    messages: list[Any] = []
    for poison, record in zip(_poison(), normal, strict=False):
        messages += [poison, EventData(orjson.dumps({"records": [record]}))]
    messages += [EventData(orjson.dumps({"records": normal[len(_poison()) :]}))]
    _send(conn, messages)
    settings = local_settings(emulator, azurite_endpoint, tmp_path)

    result = drain_partition(settings, HUB, "0")

    assert result.events == len(messages) and result.lag_after == 0
    landed = lake_ids(tmp_path)
    wanted = [*normal, AS_VALUE, signin(901), signin(901)]
    assert sorted(landed) == sorted(record_id(r) for r in wanted)
    dead = ds.dataset(deadletter_root(tmp_path), format="parquet", partitioning="hive").to_table()
    by_seq = dict(
        zip(
            dead.column("sequence_number").to_pylist(),
            zip(dead.column("reason").to_pylist(), dead.column("body").to_pylist(), strict=True),
            strict=True,
        )
    )
    # Poison events are the even sequence numbers; 0, 4 and 6 landed records.
    assert sorted(by_seq) == [2, 8, 10, 12, 14, 16]
    reason, body = by_seq[2]
    assert body == b"[[1,2,3]]" and "AMQP sequence body, taken as JSON" in reason
    reason, body = by_seq[8]
    assert body == b"not json" and "AMQP value body" in reason
    reason, body = by_seq[10]
    assert "AMQP value body, kept in its AMQP encoding" in reason and "not UTF-8" in reason
    assert b"\xff\xfe" in body
    reason, body = by_seq[12]
    assert "UUID" in reason and uuid.UUID("12345678-1234-5678-1234-567812345678").bytes in body
    reason, body = by_seq[14]
    assert body == b"null" and "AMQP value body" in reason
    reason, body = by_seq[16]
    assert body == b'[[1,2],["x"]]' and "AMQP sequence body" in reason

    again = drain_partition(settings, HUB, "0")
    assert again.events == 0 and again.lag_after == 0


class _UnreadableBody(EventData):
    """An event whose body cannot be read (what a future SDK or a sender's bug might do)."""

    @property
    def body(self) -> Any:
        raise RuntimeError("section decoder gave up")


def test_an_event_that_cannot_be_taken_is_dead_lettered_and_the_batch_goes_on(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime

    from azlogs_pipeline.ingest.batch import RawBatchWriter
    from azlogs_pipeline.ingest.drain import _Intake

    writer = RawBatchWriter(tmp_path, HUB, "0")
    intake = _Intake(
        writer, lambda _w: None, last_sequence_number=-1, target=1, max_events=None, idle_seconds=1
    )
    good = EventData(orjson.dumps({"records": [signin(1)]}))
    events = []
    for seq, event in enumerate([_UnreadableBody(b"x"), good]):
        event._raw_amqp_message.annotations = {
            b"x-opt-sequence-number": seq,
            b"x-opt-offset": str(seq * 100).encode(),
            b"x-opt-enqueued-time": int(datetime(2026, 11, 20, 10, tzinfo=UTC).timestamp() * 1000),
        }
        events.append(event)

    intake.on_batch(None, events)

    assert intake.errors == [] and intake.done.is_set()
    flushed = writer.flush()
    assert (flushed.events, flushed.records, flushed.dead_letters) == (2, 1, 1)
    dead = ds.dataset(deadletter_root(tmp_path), format="parquet", partitioning="hive").to_table()
    assert dead.column("sequence_number").to_pylist() == [0]
    assert dead.column("offset").to_pylist() == ["0"]
    assert "RuntimeError: section decoder gave up" in dead.column("reason")[0].as_py()
