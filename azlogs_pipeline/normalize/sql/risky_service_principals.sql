-- risky_service_principals: one row per RiskyServicePrincipals record (a snapshot of one service
-- principal's risk at event_time).
--
-- Input `raw_hour`: raw-lake rows of this table's categories for one event-time hour.
-- Records come in two shapes: the diagnostic-setting shape (camelCase fields under `properties`,
-- which may itself arrive as a JSON-encoded string) and the Log-Analytics shape (PascalCase fields
-- at the top level). Each record is parsed once: json_extract_string with a list of paths reads
-- every value (both spellings) in one pass. Values that do not fit their type become NULL.
-- event_time is the raw lake's: properties.riskLastUpdatedDateTime, else `time`, else enqueued.
WITH one_per_record AS (
    -- Exact duplicates (publishing retries, re-drains) collapse to the first landed copy.
    SELECT *
    FROM raw_hour
    QUALIFY row_number() OVER (
        PARTITION BY record_id
        ORDER BY sequence_number, eventhub, partition_id, record_index
    ) = 1
),
documents AS (
    -- Rare path: `properties` sent as a JSON-encoded string is decoded in place first.
    SELECT
        *,
        with_decoded_properties(record) AS doc
    FROM one_per_record
),
extracted AS (
    SELECT
        *,
        json_extract_string(doc, [
            '$.properties.id',                            -- 1
            '$.properties.servicePrincipalId',            -- 2
            '$.Id',                                       -- 3
            '$.ServicePrincipalId',                       -- 4
            '$.properties.appId',                         -- 5
            '$.AppId',                                    -- 6
            '$.properties.displayName',                   -- 7
            '$.properties.servicePrincipalDisplayName',   -- 8
            '$.DisplayName',                              -- 9
            '$.ServicePrincipalDisplayName',              -- 10
            '$.properties.servicePrincipalType',          -- 11
            '$.ServicePrincipalType',                     -- 12
            '$.properties.riskLevel',                     -- 13
            '$.RiskLevel',                                -- 14
            '$.properties.riskState',                     -- 15
            '$.RiskState',                                -- 16
            '$.properties.riskDetail',                    -- 17
            '$.RiskDetail',                               -- 18
            '$.properties.isEnabled',                     -- 19
            '$.IsEnabled',                                -- 20
            '$.properties.accountEnabled',                -- 21
            '$.AccountEnabled',                           -- 22
            '$.properties.isProcessing',                  -- 23
            '$.IsProcessing',                             -- 24
            '$.properties.riskLastUpdatedDateTime',       -- 25
            '$.RiskLastUpdatedDateTime',                  -- 26
            '$.correlationId',                            -- 27
            '$.properties.correlationId',                 -- 28
            '$.CorrelationId'                             -- 29
        ]) AS v
    FROM documents
),
fields AS (
    SELECT
        *,
        nullif(trim(coalesce(v[25], v[26])), '') AS updated_text
    FROM extracted
),
timed AS (
    SELECT
        *,
        -- Time texts to UTC instants (entra_time_text, in _macros.sql).
        entra_time_text(updated_text) AS updated_time
    FROM fields
)
SELECT
    record_id,
    nullif(coalesce(v[1], v[2], v[3], v[4]), '') AS service_principal_id,
    event_time,
    nullif(coalesce(v[5], v[6]), '') AS app_id,
    nullif(coalesce(v[7], v[8], v[9], v[10]), '') AS service_principal_display_name,
    nullif(coalesce(v[11], v[12]), '') AS service_principal_type,
    nullif(coalesce(v[13], v[14]), '') AS risk_level,
    nullif(coalesce(v[15], v[16]), '') AS risk_state,
    nullif(coalesce(v[17], v[18]), '') AS risk_detail,
    -- Booleans may be true/false or their strings in any casing; anything else is NULL.
    TRY_CAST(coalesce(v[19], v[20]) AS BOOLEAN) AS is_enabled,
    TRY_CAST(coalesce(v[21], v[22]) AS BOOLEAN) AS account_enabled,
    TRY_CAST(coalesce(v[23], v[24]) AS BOOLEAN) AS is_processing,
    -- Outside 1970..2999 (such as the 0001-01-01 "unset" sentinel) means unknown.
    CASE
        WHEN epoch_us(updated_time) BETWEEN 0 AND 32503680000000000 THEN updated_time
    END AS risk_last_updated_time,
    event_time_source,
    operation_name,
    category,
    tenant_id,
    nullif(coalesce(v[27], v[28], v[29]), '') AS correlation_id,
    record AS raw,
    eventhub,
    partition_id,
    sequence_number,
    enqueued_time
FROM timed
ORDER BY event_time, record_id
