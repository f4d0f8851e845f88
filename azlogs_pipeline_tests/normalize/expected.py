"""What the table tests expect of every table, written apart from normalize/contract.py so that
they check it rather than repeat it."""

COMMON_COLUMNS = (
    "record_id",
    "event_time",
    "category",
    "tenant_id",
    "correlation_id",
    "eventhub",
    "partition_id",
    "sequence_number",
    "enqueued_time",
)
"""The envelope columns every table promises analysts."""
