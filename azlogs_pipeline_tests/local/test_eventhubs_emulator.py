"""Conformance of the Event Hubs emulator, driven through the real azure-eventhub clients.

Where publishing is not what a test is about it preloads events with ``emu.publish`` (no AMQP
round trip): every SDK client start costs ~0.5 s of the SDK's own polling, and the file has to
stay fast. Independent receives run in parallel for the same reason.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, cast

import pytest
from azure.eventhub import EventData, EventHubConsumerClient, EventHubProducerClient
from azure.eventhub.exceptions import ConnectError, EventDataSendError, EventHubError

from azlogs_pipeline.local.eventhubs import EventHubsEmulator
from azlogs_pipeline.local.eventhubs.hashing import partition_index
from azlogs_pipeline_tests.fixtures.emulator import FAST_FAIL, receive_events, send_bodies

Factory = Callable[..., EventHubsEmulator]


def producer(conn_str: str, **kwargs: Any) -> EventHubProducerClient:
    return EventHubProducerClient.from_connection_string(conn_str, **kwargs)


def bodies(events: list[EventData]) -> list[str]:
    return [e.body_as_str() for e in events]


def raw_body(event: EventData) -> bytes:
    return b"".join(cast(Iterable[bytes], event.body))


@contextmanager
def receiving(
    client: EventHubConsumerClient, receive: Callable[..., None], **kwargs: Any
) -> Iterator[None]:
    """`receive(**kwargs)` (the client's receive or receive_batch) in a thread for the body of the
    `with`; then the client is closed, and the receive must end."""
    thread = threading.Thread(target=receive, kwargs=kwargs)
    thread.start()
    try:
        yield
    finally:
        client.close()
        thread.join(10)
    assert not thread.is_alive(), "closing the client ends its receive"


def enqueued(event: EventData) -> dt.datetime:
    assert event.enqueued_time is not None
    return event.enqueued_time


def in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(c) for c in calls]]


def texts(*items: str) -> list[bytes]:
    return [i.encode() for i in items]


def test_several_hubs_with_chosen_partition_count(eventhubs_emulator_factory: Factory) -> None:
    emu = eventhubs_emulator_factory(hubs=["adlogs", "other"], partitions=3)
    for hub in ("adlogs", "other"):
        with producer(emu.connection_string(hub)) as client:
            props = client.get_eventhub_properties()
            assert props["eventhub_name"] == hub
            assert props["partition_ids"] == ["0", "1", "2"]
            assert isinstance(props["created_at"], dt.datetime)
    emu.publish("other", texts("only in other"), partition_id="1")
    assert emu.partition_properties("adlogs", "1")["is_partition_empty"] is True
    assert bodies(receive_events(emu.connection_string("other"), "1", expected=1)) == [
        "only in other"
    ]


def test_partition_properties(eventhubs_emulator: EventHubsEmulator) -> None:
    eventhubs_connection_string = eventhubs_emulator.connection_string("adlogs")
    with producer(eventhubs_connection_string) as client:
        empty = client.get_partition_properties("2")
        assert empty["is_empty"] is True
        assert empty["last_enqueued_sequence_number"] == -1
        assert empty["last_enqueued_offset"] == "-1"
        eventhubs_emulator.publish("adlogs", texts("a", "b", "c"), partition_id="2")
        props = client.get_partition_properties("2")
    assert props["eventhub_name"] == "adlogs"
    assert props["id"] == "2"
    assert props["is_empty"] is False
    assert props["beginning_sequence_number"] == 0
    assert props["last_enqueued_sequence_number"] == 2
    assert isinstance(props["last_enqueued_offset"], str)
    assert props["last_enqueued_time_utc"] > dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    last = receive_events(eventhubs_connection_string, "2", expected=3)[-1]
    assert last.offset == props["last_enqueued_offset"]
    assert last.enqueued_time == props["last_enqueued_time_utc"]


def test_unknown_hub_is_a_clear_error(eventhubs_emulator: EventHubsEmulator) -> None:
    conn_str = eventhubs_emulator.connection_string("nosuchhub")
    with producer(conn_str, **FAST_FAIL) as client:
        with pytest.raises(ConnectError, match="could not be found"):
            client.get_eventhub_properties()
        with pytest.raises(ConnectError, match="nosuchhub"):
            client.send_event(EventData("x"), partition_id="0")
    with pytest.raises(EventHubError, match="could not be found"):
        receive_events(conn_str, "0", client_kwargs=FAST_FAIL)


def test_batch_split_into_events_with_properties(eventhubs_connection_string: str) -> None:
    with producer(eventhubs_connection_string) as client:
        batch = client.create_batch(partition_id="0")
        for i in range(5):
            event = EventData(f"event {i}")
            event.properties = {"index": i, "kind": "signin"}
            event.content_type = "application/json"
            event.correlation_id = f"corr-{i}"
            event.message_id = f"msg-{i}"
            batch.add(event)
        client.send_batch(batch)
    events = receive_events(eventhubs_connection_string, "0", expected=5)
    assert bodies(events) == [f"event {i}" for i in range(5)]
    assert [e.sequence_number for e in events] == [0, 1, 2, 3, 4]
    offsets = [int(str(e.offset)) for e in events]
    assert offsets == sorted(set(offsets))
    for i, event in enumerate(events):
        assert event.properties == {b"index": i, b"kind": b"signin"}
        assert event.content_type == "application/json"
        assert event.correlation_id == f"corr-{i}"
        assert event.message_id == f"msg-{i}"
        assert event.partition_key is None
        assert event.enqueued_time is not None
        assert event.system_properties[b"x-opt-sequence-number"] == i


def test_single_send_and_partition_key(eventhubs_connection_string: str) -> None:
    key = "user-42@contoso.com"
    target = str(partition_index(key, 4))
    with producer(eventhubs_connection_string) as client:
        client.send_event(EventData("one"), partition_key=key)
        batch = client.create_batch(partition_key=key)
        batch.add(EventData("two"))
        batch.add(EventData("three"))
        client.send_batch(batch)
        assert client.get_partition_properties(target)["last_enqueued_sequence_number"] == 2
    events = receive_events(eventhubs_connection_string, target, expected=3)
    assert bodies(events) == ["one", "two", "three"]
    assert {e.partition_key for e in events} == {key.encode()}  # the SDK returns it as bytes


def test_round_robin_without_partition_or_key(eventhubs_connection_string: str) -> None:
    with producer(eventhubs_connection_string) as client:
        for i in range(8):
            client.send_event(EventData(f"rr {i}"))
        counts = [
            client.get_partition_properties(p)["last_enqueued_sequence_number"] + 1
            for p in ("0", "1", "2", "3")
        ]
    assert counts == [2, 2, 2, 2]


def test_starting_positions(eventhubs_emulator: EventHubsEmulator) -> None:
    conn = eventhubs_emulator.connection_string("adlogs")
    eventhubs_emulator.publish("adlogs", texts(*[f"early {i}" for i in range(5)]), "1")
    time.sleep(0.05)
    eventhubs_emulator.publish("adlogs", texts(*[f"late {i}" for i in range(5)]), "1")
    events = receive_events(conn, "1", expected=10)
    assert [e.sequence_number for e in events] == list(range(10))
    seq3, early_last, late_first = events[3], events[4], events[5]
    assert enqueued(early_last) < enqueued(late_first)

    def read(position: Any, inclusive: bool, expected: int) -> Callable[[], list[str]]:
        return lambda: bodies(
            receive_events(
                conn,
                "1",
                expected=expected,
                starting_position=position,
                starting_position_inclusive=inclusive,
            )
        )

    late = [f"late {i}" for i in range(5)]
    assert in_parallel(
        read(seq3.offset, False, 6),
        read(seq3.offset, True, 7),
        read(seq3.sequence_number, False, 6),
        read(seq3.sequence_number, True, 7),
        read(early_last.enqueued_time, False, 5),
        read(late_first.enqueued_time, True, 5),
    ) == [
        ["early 4", *late],
        ["early 3", "early 4", *late],
        ["early 4", *late],
        ["early 3", "early 4", *late],
        late,
        late,
    ]


def test_latest_starts_after_existing_events(eventhubs_emulator: EventHubsEmulator) -> None:
    conn = eventhubs_emulator.connection_string("adlogs")
    eventhubs_emulator.publish("adlogs", texts("old"), partition_id="3")
    client = EventHubConsumerClient.from_connection_string(conn, consumer_group="$Default")
    received: list[str] = []
    attached = threading.Event()
    got_new = threading.Event()

    def on_event(_ctx: Any, event: EventData | None) -> None:
        attached.set()
        if event is not None:
            received.append(event.body_as_str())
            got_new.set()

    with receiving(
        client,
        client.receive,
        on_event=on_event,
        partition_id="3",
        starting_position="@latest",
        max_wait_time=0.3,
    ):
        assert attached.wait(10)
        eventhubs_emulator.publish("adlogs", texts("new"), partition_id="3")
        assert got_new.wait(10)
    assert received == ["new"]


def test_consumer_groups_read_independently(eventhubs_emulator: EventHubsEmulator) -> None:
    conn = eventhubs_emulator.connection_string("adlogs")
    eventhubs_emulator.publish("adlogs", texts("x", "y"), partition_id="0")
    results = in_parallel(
        *[
            lambda g=group: bodies(receive_events(conn, "0", expected=2, consumer_group=g))
            for group in ("$Default", "pipeline", "audit")
        ]
    )
    assert results == [["x", "y"]] * 3


def test_last_enqueued_event_properties(eventhubs_emulator: EventHubsEmulator) -> None:
    conn = eventhubs_emulator.connection_string("adlogs")
    eventhubs_emulator.publish("adlogs", texts(*[f"e{i}" for i in range(20)]), partition_id="2")
    client = EventHubConsumerClient.from_connection_string(conn, consumer_group="$Default")
    seen: list[dict[str, Any]] = []
    done = threading.Event()

    def on_event(ctx: Any, event: EventData | None) -> None:
        if event is not None:
            seen.append(dict(ctx.last_enqueued_event_properties))
            if len(seen) == 20:
                done.set()

    with receiving(
        client,
        client.receive,
        on_event=on_event,
        partition_id="2",
        starting_position="-1",
        track_last_enqueued_event_properties=True,
    ):
        assert done.wait(15)
    props = eventhubs_emulator.partition_properties("adlogs", "2")
    last = seen[-1]
    assert last["sequence_number"] == 19 == props["last_enqueued_sequence_number"]
    assert last["offset"] == props["last_enqueued_offset"]
    enqueued_ms = props["last_enqueued_time_utc"]
    assert last["enqueued_time"] == dt.datetime.fromtimestamp(enqueued_ms / 1000, dt.UTC)
    assert isinstance(last["retrieval_time"], dt.datetime)


def test_owner_level_epochs(eventhubs_emulator: EventHubsEmulator) -> None:
    conn = eventhubs_emulator.connection_string("adlogs")
    errors: dict[str, list[Exception]] = {"low": [], "high": [], "late_low": []}
    received: dict[str, list[str]] = {"low": [], "high": [], "late_low": []}
    clients: list[EventHubConsumerClient] = []
    threads = []

    def start(name: str, owner_level: int) -> None:
        client = EventHubConsumerClient.from_connection_string(conn, consumer_group="$Default")
        clients.append(client)

        def on_event(_ctx: Any, event: EventData | None) -> None:
            if event is not None:
                received[name].append(event.body_as_str())

        thread = threading.Thread(
            target=client.receive,
            kwargs={
                "on_event": on_event,
                "on_error": lambda _ctx, err: errors[name].append(err),
                "partition_id": "0",
                "owner_level": owner_level,
                "starting_position": "-1",
                "max_wait_time": 0.3,
            },
        )
        thread.start()
        threads.append(thread)

    def wait_for(check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 10
        while not check() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert check()

    eventhubs_emulator.publish("adlogs", texts("before"), partition_id="0")
    start("low", 1)
    wait_for(lambda: received["low"] == ["before"])
    start("high", 2)
    wait_for(lambda: bool(errors["low"]))
    start("late_low", 1)
    wait_for(lambda: bool(errors["late_low"]))
    eventhubs_emulator.publish("adlogs", texts("after"), partition_id="0")
    wait_for(lambda: received["high"] == ["before", "after"])
    for client in clients:
        client.close()
    for thread in threads:
        thread.join(10)
    assert "amqp:link:stolen" in str(errors["low"][0])
    assert "higher epoch of '2'" in str(errors["low"][0])
    assert "amqp:link:stolen" in str(errors["late_low"][0])
    assert "higher epoch '2' already exists" in str(errors["late_low"][0])
    assert errors["high"] == []
    assert "after" not in received["low"] + received["late_low"]


def test_publication_over_max_message_bytes_is_rejected(
    eventhubs_emulator_factory: Factory,
) -> None:
    emu = eventhubs_emulator_factory(max_message_bytes=64 * 1024, partitions=1)
    conn = emu.connection_string("adlogs")
    with producer(conn) as client:
        started = time.monotonic()
        with pytest.raises(EventDataSendError, match=r"exceeds the limit"):
            client.send_event(EventData(b"x" * 100_000), partition_id="0")
        assert time.monotonic() - started < 10
        batch = client.create_batch()
        assert batch.max_size_in_bytes == 64 * 1024
        with pytest.raises(ValueError):
            batch.add(EventData(b"x" * 100_000))
        client.send_event(EventData(b"y" * 60_000), partition_id="0")
        assert client.get_partition_properties("0")["last_enqueued_sequence_number"] == 0


def test_retention_moves_begin_sequence_number(eventhubs_emulator_factory: Factory) -> None:
    emu = eventhubs_emulator_factory(retention_events=5, partitions=1)
    conn = emu.connection_string("adlogs")
    send_bodies(conn, [f"r{i}" for i in range(8)], partition_id="0")
    emu.publish("adlogs", texts(*[f"r{i}" for i in range(8, 12)]), partition_id="0")
    with producer(conn) as client:
        props = client.get_partition_properties("0")
        assert props["beginning_sequence_number"] == 7
        assert props["last_enqueued_sequence_number"] == 11
        events, older = in_parallel(
            lambda: receive_events(conn, "0", expected=5),
            lambda: receive_events(conn, "0", expected=5, starting_position=2),
        )
        assert [e.sequence_number for e in events] == [7, 8, 9, 10, 11]
        assert [e.sequence_number for e in older] == [7, 8, 9, 10, 11]
        assert emu.apply_retention("adlogs", "0", keep_last=2) == 3
        assert client.get_partition_properties("0")["beginning_sequence_number"] == 10
    from_old_offset = receive_events(conn, "0", expected=2, starting_position=events[0].offset)
    assert bodies(from_old_offset) == ["r10", "r11"]


def test_persistence_survives_restart(eventhubs_emulator_factory: Factory) -> None:
    emu = eventhubs_emulator_factory(data_dir=True, partitions=2)
    emu.publish("adlogs", texts(*[f"p{i}" for i in range(25)]), partition_id="1")
    conn = emu.connection_string("adlogs")
    send_bodies(conn, [f"p{i}" for i in range(25, 30)], partition_id="1")
    assert emu.apply_retention("adlogs", "1", keep_last=20) == 10
    before = emu.partition_properties("adlogs", "1")
    emu.stop()
    assert emu.data_dir is not None
    with (emu.data_dir / "adlogs" / "1.log").open("ab") as log:
        log.write(b"\xe7\xb5\x01\x00\x00\x10")  # a torn record, as after a crash mid-write

    emu.start()  # same port, so the connection string still works
    assert emu.partition_properties("adlogs", "1") == before
    events = receive_events(conn, "1", expected=20)
    assert bodies(events) == [f"p{i}" for i in range(10, 30)]
    emu.publish("adlogs", texts("after restart"), partition_id="1")
    latest = receive_events(conn, "1", expected=1, starting_position=29)
    assert [(e.sequence_number, e.body_as_str()) for e in latest] == [(30, "after restart")]
    assert int(str(latest[0].offset)) > int(str(events[-1].offset))


def test_large_events_span_several_frames(eventhubs_emulator_factory: Factory) -> None:
    emu = eventhubs_emulator_factory(max_message_bytes=4 * 1024 * 1024, partitions=1)
    conn = emu.connection_string("adlogs")
    big = bytes(range(256)) * (6 * 1024)  # 1.5 MB: more than one 1 MB frame either way
    with producer(conn) as client:
        client.send_event(EventData(big), partition_id="0")
        batch = client.create_batch(partition_id="0")
        for i in range(3):
            batch.add(EventData(bytes([i]) * 900_000))
        client.send_batch(batch)
    events = receive_events(conn, "0", expected=4)
    assert raw_body(events[0]) == big
    assert [len(raw_body(e)) for e in events[1:]] == [900_000] * 3
    assert [raw_body(e)[:1] for e in events[1:]] == [b"\x00", b"\x01", b"\x02"]


def test_small_prefetch_and_batches(eventhubs_emulator: EventHubsEmulator) -> None:
    conn = eventhubs_emulator.connection_string("adlogs")
    eventhubs_emulator.publish("adlogs", texts(*[f"f{i:03d}" for i in range(250)]), "3")
    events = receive_events(conn, "3", expected=250, prefetch=7, max_batch_size=5)
    assert bodies(events) == [f"f{i:03d}" for i in range(250)]


def test_idle_receive_calls_back_with_none(eventhubs_connection_string: str) -> None:
    client = EventHubConsumerClient.from_connection_string(
        eventhubs_connection_string, consumer_group="$Default"
    )
    calls: list[EventData | None] = []
    two_idle = threading.Event()

    def on_event(_ctx: Any, event: EventData | None) -> None:
        calls.append(event)
        if calls.count(None) >= 2:
            two_idle.set()

    with receiving(client, client.receive, on_event=on_event, partition_id="1", max_wait_time=0.3):
        assert two_idle.wait(10)
    assert set(calls) == {None}


def test_close_from_another_thread_ends_receive(eventhubs_connection_string: str) -> None:
    client = EventHubConsumerClient.from_connection_string(
        eventhubs_connection_string, consumer_group="$Default"
    )
    thread = threading.Thread(
        target=client.receive_batch,
        kwargs={"on_event_batch": lambda _ctx, _batch: None, "starting_position": "-1"},
    )
    thread.start()
    time.sleep(1.5)  # all four partition consumers attached and waiting
    started = time.monotonic()
    client.close()
    thread.join(10)
    assert not thread.is_alive()
    assert time.monotonic() - started < 5


def test_many_connections_at_once(eventhubs_emulator: EventHubsEmulator) -> None:
    conn = eventhubs_emulator.connection_string("adlogs")
    for pid in ("0", "1", "2", "3"):
        eventhubs_emulator.publish("adlogs", texts(*[f"{pid}-{i}" for i in range(50)]), pid)
    results: dict[tuple[str, str], list[str]] = {}
    failures: list[BaseException] = []

    def drain(group: str, pid: str) -> None:
        try:
            results[(group, pid)] = bodies(
                receive_events(conn, pid, expected=50, consumer_group=group)
            )
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=drain, args=(group, pid))
        for group in ("g1", "g2")
        for pid in ("0", "1", "2", "3")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert len(results) == 8
    for (_, pid), got in results.items():
        assert got == [f"{pid}-{i}" for i in range(50)]


def test_whole_hub_receive_batch_without_partition(eventhubs_emulator: EventHubsEmulator) -> None:
    conn = eventhubs_emulator.connection_string("adlogs")
    eventhubs_emulator.publish("adlogs", texts(*[f"k{i}" for i in range(40)]), None, "spread-me")
    eventhubs_emulator.publish("adlogs", texts("rr0", "rr1", "rr2"))
    client = EventHubConsumerClient.from_connection_string(conn, consumer_group="$Default")
    seen: dict[str, list[str]] = {}
    lock = threading.Lock()
    done = threading.Event()

    def on_batch(ctx: Any, batch: list[EventData]) -> None:
        with lock:
            seen.setdefault(ctx.partition_id, []).extend(bodies(batch))
            if sum(len(v) for v in seen.values()) >= 43:
                done.set()

    with receiving(
        client,
        client.receive_batch,
        on_event_batch=on_batch,
        starting_position="-1",
        max_batch_size=100,
    ):
        assert done.wait(20)
    key_partition = str(partition_index("spread-me", 4))
    assert [b for b in seen[key_partition] if b.startswith("k")] == [f"k{i}" for i in range(40)]
    assert sorted(b for v in seen.values() for b in v if b.startswith("rr")) == [
        "rr0",
        "rr1",
        "rr2",
    ]
