"""A local Event Hubs emulator: an AMQP 1.0 server the real azure-eventhub clients talk to.

    from azlogs_pipeline.local.eventhubs import EventHubsEmulator

    with EventHubsEmulator(hubs=["adlogs"], partitions=4) as emu:
        conn_str = emu.connection_string("adlogs")

Run standalone with ``python -m azlogs_pipeline.local.eventhubs --help``.
"""

from .server import EventHubsEmulator

__all__ = ["EventHubsEmulator"]
