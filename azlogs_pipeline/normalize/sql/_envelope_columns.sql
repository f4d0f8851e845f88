-- The envelope columns that end the risk and Graph tables' SELECT lists (risky_users,
-- user_risk_events, risky_service_principals, service_principal_risk_events,
-- graph_activity_logs), where the file says `{envelope_columns}`. They read the raw-lake columns
-- and the record's shapes `j`, `p` and `lp` (`record_shapes`, in _macros.sql); the top-level
-- correlation id wins over the one under `properties`.
    event_time_source,
    operation_name,
    category,
    tenant_id,
    nullif(coalesce(j.correlationId, p.correlationId, lp.CorrelationId), '') AS correlation_id,
    eventhub,
    partition_id,
    sequence_number,
    enqueued_time
