-- service_principal_risk_events: one row per ServicePrincipalRiskEvents record (an Identity
-- Protection risk detection on a service principal; the twin of user_risk_events).
--
-- Input `raw_hour`: raw-lake rows of this table's categories for one event-time hour.
-- Records come in two shapes: the diagnostic-setting shape (camelCase fields under `properties`,
-- which may itself arrive as a JSON-encoded string) and the Log-Analytics shape (PascalCase fields
-- at the top level, nested objects such as `Location` as JSON-encoded strings). Each record is
-- parsed once: json_extract_string with a list of paths reads every value (both spellings) in one
-- pass. Values that do not fit their type become NULL.
-- event_time is the raw lake's: properties.activityDateTime, else `time`, else enqueued time;
-- detected_time and last_updated_time are kept beside it.
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
            '$.Id',                                       -- 2
            '$.properties.detectedDateTime',              -- 3
            '$.DetectedDateTime',                         -- 4
            '$.properties.lastUpdatedDateTime',           -- 5
            '$.LastUpdatedDateTime',                      -- 6
            '$.properties.servicePrincipalId',            -- 7
            '$.ServicePrincipalId',                       -- 8
            '$.properties.appId',                         -- 9
            '$.AppId',                                    -- 10
            '$.properties.servicePrincipalDisplayName',   -- 11
            '$.ServicePrincipalDisplayName',              -- 12
            '$.properties.riskEventType',                 -- 13
            '$.RiskEventType',                            -- 14
            '$.properties.riskType',                      -- 15
            '$.RiskType',                                 -- 16
            '$.properties.riskLevel',                     -- 17
            '$.RiskLevel',                                -- 18
            '$.properties.riskState',                     -- 19
            '$.RiskState',                                -- 20
            '$.properties.riskDetail',                    -- 21
            '$.RiskDetail',                               -- 22
            '$.properties.detectionTimingType',           -- 23
            '$.DetectionTimingType',                      -- 24
            '$.properties.activity',                      -- 25
            '$.Activity',                                 -- 26
            '$.properties.source',                        -- 27
            '$.Source',                                   -- 28
            '$.properties.ipAddress',                     -- 29
            '$.IpAddress',                                -- 30
            '$.IPAddress',                                -- 31
            '$.properties.location.countryOrRegion',      -- 32
            '$.properties.location.city',                 -- 33
            '$.properties.location.state',                -- 34
            '$.Location',                                 -- 35 (JSON text, PascalCase shape)
            '$.properties.requestId',                     -- 36
            '$.RequestId',                                -- 37
            '$.properties.tokenIssuerType',               -- 38
            '$.TokenIssuerType',                          -- 39
            '$.properties.additionalInfo',                -- 40 (JSON text or JSON in a string)
            '$.AdditionalInfo',                           -- 41
            '$.correlationId',                            -- 42
            '$.properties.correlationId',                 -- 43
            '$.CorrelationId',                            -- 44
            '$.properties.keyIds',                        -- 45 (JSON list of credential ids)
            '$.KeyIds'                                    -- 46
        ]) AS v
    FROM documents
),
fields AS (
    SELECT
        *,
        nullif(trim(coalesce(v[3], v[4])), '') AS detected_text,
        nullif(trim(coalesce(v[5], v[6])), '') AS updated_text,
        -- A PascalCase `Location` is a JSON-encoded object: decode it only when present.
        CASE
            WHEN v[32] IS NULL AND v[33] IS NULL AND json_valid(v[35])
                THEN json_extract_string(v[35], ['$.countryOrRegion', '$.city', '$.state'])
        END AS pascal_location,
        CASE
            WHEN json_valid(coalesce(v[40], v[41])) THEN json(coalesce(v[40], v[41]))
        END AS additional_info
    FROM extracted
),
timed AS (
    SELECT
        *,
        -- Time texts to UTC instants (entra_time_text, in _macros.sql).
        entra_time_text(detected_text) AS detected_parsed,
        entra_time_text(updated_text) AS updated_parsed,
        -- IP addresses stay text (IPv6, CIDR, redacted `.XXX` included); placeholders are NULL.
        CASE
            WHEN lower(trim(coalesce(v[29], v[30], v[31])))
                IN ('', '<null>', '&lt;null&gt;', 'null') THEN NULL
            ELSE trim(coalesce(v[29], v[30], v[31]))
        END AS ip_text
    FROM fields
)
SELECT
    record_id,
    nullif(coalesce(v[1], v[2]), '') AS id,
    event_time,
    -- Outside 1970..2999 (such as the 0001-01-01 "unset" sentinel) means unknown.
    CASE
        WHEN epoch_us(detected_parsed) BETWEEN 0 AND 32503680000000000 THEN detected_parsed
    END AS detected_time,
    CASE
        WHEN epoch_us(updated_parsed) BETWEEN 0 AND 32503680000000000 THEN updated_parsed
    END AS last_updated_time,
    nullif(coalesce(v[7], v[8]), '') AS service_principal_id,
    nullif(coalesce(v[9], v[10]), '') AS app_id,
    nullif(coalesce(v[11], v[12]), '') AS service_principal_display_name,
    nullif(coalesce(v[13], v[14], v[15], v[16]), '') AS risk_event_type,
    nullif(coalesce(v[17], v[18]), '') AS risk_level,
    nullif(coalesce(v[19], v[20]), '') AS risk_state,
    nullif(coalesce(v[21], v[22]), '') AS risk_detail,
    nullif(coalesce(v[23], v[24]), '') AS detection_timing_type,
    nullif(coalesce(v[25], v[26]), '') AS activity,
    nullif(coalesce(v[27], v[28]), '') AS source,
    ip_text AS ip_address,
    nullif(coalesce(v[32], pascal_location[1]), '') AS location_country,
    nullif(coalesce(v[33], pascal_location[2]), '') AS location_city,
    nullif(coalesce(v[34], pascal_location[3]), '') AS location_state,
    nullif(coalesce(v[36], v[37]), '') AS request_id,
    nullif(coalesce(v[38], v[39]), '') AS token_issuer_type,
    -- additionalInfo is JSON, often JSON-encoded inside a string: decoded here; invalid is NULL.
    additional_info,
    CASE WHEN json_valid(coalesce(v[45], v[46])) THEN json(coalesce(v[45], v[46])) END AS key_ids,
    event_time_source,
    operation_name,
    category,
    tenant_id,
    nullif(coalesce(v[42], v[43], v[44]), '') AS correlation_id,
    record AS raw,
    eventhub,
    partition_id,
    sequence_number,
    enqueued_time
FROM timed
ORDER BY event_time, record_id
