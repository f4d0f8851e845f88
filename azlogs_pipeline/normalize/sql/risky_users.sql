-- risky_users: one row per RiskyUsers record (a snapshot of one user's risk at event_time).
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
            '$.properties.id',                       -- 1
            '$.properties.userId',                   -- 2
            '$.Id',                                  -- 3
            '$.UserId',                              -- 4
            '$.properties.userPrincipalName',        -- 5
            '$.UserPrincipalName',                   -- 6
            '$.properties.userDisplayName',          -- 7
            '$.UserDisplayName',                     -- 8
            '$.properties.riskLevel',                -- 9
            '$.RiskLevel',                           -- 10
            '$.properties.riskState',                -- 11
            '$.RiskState',                           -- 12
            '$.properties.riskDetail',               -- 13
            '$.RiskDetail',                          -- 14
            '$.properties.isDeleted',                -- 15
            '$.IsDeleted',                           -- 16
            '$.properties.isProcessing',             -- 17
            '$.IsProcessing',                        -- 18
            '$.properties.isGuest',                  -- 19
            '$.IsGuest',                             -- 20
            '$.properties.riskLastUpdatedDateTime',  -- 21
            '$.RiskLastUpdatedDateTime',             -- 22
            '$.correlationId',                       -- 23
            '$.properties.correlationId',            -- 24
            '$.CorrelationId'                        -- 25
        ]) AS v
    FROM documents
),
fields AS (
    SELECT
        *,
        nullif(trim(coalesce(v[21], v[22])), '') AS updated_text
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
    nullif(coalesce(v[1], v[2], v[3], v[4]), '') AS user_id,
    event_time,
    nullif(coalesce(v[5], v[6]), '') AS user_principal_name,
    nullif(coalesce(v[7], v[8]), '') AS user_display_name,
    nullif(coalesce(v[9], v[10]), '') AS risk_level,
    nullif(coalesce(v[11], v[12]), '') AS risk_state,
    nullif(coalesce(v[13], v[14]), '') AS risk_detail,
    -- Booleans may be true/false or their strings in any casing; anything else is NULL.
    TRY_CAST(coalesce(v[15], v[16]) AS BOOLEAN) AS is_deleted,
    TRY_CAST(coalesce(v[17], v[18]) AS BOOLEAN) AS is_processing,
    TRY_CAST(coalesce(v[19], v[20]) AS BOOLEAN) AS is_guest,
    -- Outside 1970..2999 (such as the 0001-01-01 "unset" sentinel) means unknown.
    CASE
        WHEN epoch_us(updated_time) BETWEEN 0 AND 32503680000000000 THEN updated_time
    END AS risk_last_updated_time,
    event_time_source,
    operation_name,
    category,
    tenant_id,
    nullif(coalesce(v[23], v[24], v[25]), '') AS correlation_id,
    record AS raw,
    eventhub,
    partition_id,
    sequence_number,
    enqueued_time
FROM timed
ORDER BY event_time, record_id
