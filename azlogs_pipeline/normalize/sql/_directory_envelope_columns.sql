-- The envelope columns that end the audit_logs and provisioning_logs SELECT lists, where the
-- file says `{directory_envelope_columns}`. They read the raw-lake columns and the record's shape
-- `j` and its `p` (`properties_shape`, in _macros.sql); the correlation id under `properties`
-- wins over the top-level one.
    record_id,
    tenant_id,
    coalesce(p.correlationId, j.correlationId) AS correlation_id,
    eventhub,
    partition_id,
    sequence_number,
    enqueued_time
