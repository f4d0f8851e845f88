-- activity_logs: one row per Azure Activity log record (Administrative, Security, ServiceHealth,
-- Alert, Recommendation, Policy, Autoscale, ResourceHealth, and the older Action / Write).
--
-- Input `raw_hour`: raw-lake rows of this table's categories for one event-time hour.
-- Each record is parsed once: json_extract_string with a list of paths reads every value (both
-- key spellings, e.g. `level` / `Level`) in one pass. `properties` or `identity` sent as a
-- JSON-encoded string is decoded first; `identity` may also be a plain string (the caller).
-- Values that do not fit their type become NULL; nothing fails the hour.
-- event_time is the raw lake's (`time`, the event timestamp, else the enqueued time).
--
-- level: Azure's numeric and textual spellings normalized to one text: 1 / Critical -> 'Critical',
-- 2 / Error -> 'Error', 3 / Warning -> 'Warning', 4 / Informational / Information / Info ->
-- 'Informational', 5 / Verbose -> 'Verbose'; any other value is kept as sent (trimmed).
--
-- resource_id parts (matched case-insensitively, values keep their casing except the
-- subscription GUID, lower-cased): /subscriptions/{subscription_id}/resourceGroups/
-- {resource_group}/providers/{resource_provider}/{type}/{name}[/{child type}/{child name}...].
-- The last `/providers/` segment wins (extension resources); resource_type joins the type
-- segments ('virtualMachines/extensions') and resource_name the names ('vm1/ext1'), as ARM does.
WITH one_per_record AS (
    -- Exact duplicates (publishing retries, re-drains) collapse to the first landed copy.
    SELECT *
    FROM raw_hour
    QUALIFY row_number() OVER (
        PARTITION BY record_id
        ORDER BY sequence_number, eventhub, partition_id, record_index
    ) = 1
),
flags AS (
    SELECT
        *,
        -- Only possible when the value is a string: the rare paths below run only then.
        contains(record, '"properties":"') AS properties_is_text,
        contains(record, '"identity":"') AS identity_is_text
    FROM one_per_record
),
documents AS (
    -- Decode `properties` / `identity` sent as JSON-encoded strings in place.
    SELECT
        *,
        CASE
            WHEN properties_is_text OR identity_is_text THEN json_merge_patch(
                record,
                CASE
                    WHEN properties_is_text
                        AND json_valid(json_extract_string(record, '$.properties'))
                        THEN json_object(
                            'properties', json(json_extract_string(record, '$.properties'))
                        )
                    ELSE json_object()
                END,
                CASE
                    WHEN identity_is_text
                        AND json_valid(json_extract_string(record, '$.identity'))
                        AND starts_with(ltrim(json_extract_string(record, '$.identity')), '{')
                        THEN json_object(
                            'identity', json(json_extract_string(record, '$.identity'))
                        )
                    ELSE json_object()
                END
            )
            ELSE record
        END AS doc
    FROM flags
),
extracted AS (
    SELECT
        *,
        json_extract_string(doc, [
            '$.resultType',                                                          -- 1
            '$.ResultType',                                                          -- 2
            '$.resultSignature',                                                     -- 3
            '$.ResultSignature',                                                     -- 4
            '$.level',                                                               -- 5
            '$.Level',                                                               -- 6
            '$.caller',                                                              -- 7
            '$.Caller',                                                              -- 8
            '$.identity.claims."http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"',
            '$.identity.claims."http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"',
            '$.identity.claims.appid',                                               -- 11
            '$.identity.claims."http://schemas.microsoft.com/identity/claims/objectidentifier"',
            '$.callerIpAddress',                                                     -- 13
            '$.CallerIpAddress',                                                     -- 14
            '$.correlationId',                                                       -- 15
            '$.CorrelationId',                                                       -- 16
            '$.identity.authorization.action',                                       -- 17
            '$.identity.authorization.scope',                                        -- 18
            '$.identity.authorization.evidence.role',                                -- 19
            '$.identity.authorization.evidence.principalId',                         -- 20
            '$.identity.authorization.evidence.principalType',                       -- 21
            '$.properties.statusCode',                                               -- 22
            '$.properties.eventCategory',                                            -- 23
            '$.properties',                                                          -- 24
            '$.Properties',                                                          -- 25
            '$.durationMs',                                                          -- 26
            '$.DurationMs',                                                          -- 27
            '$.location',                                                            -- 28
            '$.Location'                                                             -- 29
            -- 9: claims upn, 10: claims name, 12: claims object id
        ]) AS v,
        -- `identity` as a plain (non-JSON) string names the caller.
        CASE
            WHEN identity_is_text
                AND NOT starts_with(ltrim(json_extract_string(record, '$.identity')), '{')
                THEN nullif(trim(json_extract_string(record, '$.identity')), '')
        END AS identity_text
    FROM documents
),
fields AS (
    SELECT
        *,
        trim(coalesce(v[5], v[6])) AS level_text,
        trim(coalesce(v[13], v[14])) AS ip_text,
        nullif(rtrim(resource_id, '/'), '') AS rid,
        -- resourceId split on '/' (list functions, cheaper than regular expressions), with a
        -- lower-cased copy to find the keywords in any casing.
        string_split(rtrim(resource_id, '/'), '/') AS segments,
        string_split(lower(rtrim(resource_id, '/')), '/') AS lower_segments
    FROM extracted
),
resource_parts AS (
    SELECT
        *,
        list_position(lower_segments, 'subscriptions') AS subscription_at,
        list_position(lower_segments, 'resourcegroups') AS group_at,
        -- Position of the last `providers` segment (NULL when there is none).
        len(lower_segments) + 1 - list_position(list_reverse(lower_segments), 'providers')
            AS provider_at
    FROM fields
),
resource_path AS (
    SELECT
        *,
        -- The {type}/{name}[/{child type}/{child name}...] segments after the provider.
        segments[provider_at + 2:] AS provider_path
    FROM resource_parts
)
SELECT
    record_id,
    event_time,
    category,
    operation_name,
    nullif(coalesce(v[1], v[2]), '') AS result_type,
    nullif(coalesce(v[3], v[4]), '') AS result_signature,
    CASE
        WHEN lower(level_text) IN ('1', 'critical') THEN 'Critical'
        WHEN lower(level_text) IN ('2', 'error') THEN 'Error'
        WHEN lower(level_text) IN ('3', 'warning') THEN 'Warning'
        WHEN lower(level_text) IN ('4', 'informational', 'information', 'info')
            THEN 'Informational'
        WHEN lower(level_text) IN ('5', 'verbose') THEN 'Verbose'
        ELSE nullif(level_text, '')
    END AS level,
    -- Caller: explicit `caller`, else the token's UPN, name or app id, else a plain identity.
    nullif(coalesce(v[7], v[8], v[9], v[10], v[11], identity_text), '') AS caller,
    nullif(v[12], '') AS caller_object_id,
    nullif(v[11], '') AS caller_app_id,
    -- IP addresses stay text (IPv6, CIDR, redacted `.XXX` included); placeholders are NULL.
    CASE
        WHEN lower(ip_text) IN ('', '<null>', '&lt;null&gt;', 'null') THEN NULL
        ELSE ip_text
    END AS caller_ip,
    nullif(coalesce(v[15], v[16]), '') AS correlation_id,
    rid AS resource_id,
    lower(nullif(segments[subscription_at + 1], '')) AS subscription_id,
    nullif(segments[group_at + 1], '') AS resource_group,
    nullif(segments[provider_at + 1], '') AS resource_provider,
    nullif(array_to_string([s FOR s, i IN provider_path IF i % 2 = 1], '/'), '') AS resource_type,
    nullif(array_to_string([s FOR s, i IN provider_path IF i % 2 = 0], '/'), '') AS resource_name,
    nullif(v[17], '') AS authorization_action,
    nullif(v[18], '') AS authorization_scope,
    nullif(v[19], '') AS authorization_role,
    nullif(v[20], '') AS authorization_principal_id,
    nullif(v[21], '') AS authorization_principal_type,
    nullif(v[22], '') AS status_code,
    nullif(v[23], '') AS event_category,
    -- Duration: a number or a numeric string, rounded to whole milliseconds.
    TRY_CAST(round(TRY_CAST(coalesce(v[26], v[27]) AS DOUBLE)) AS BIGINT) AS duration_ms,
    nullif(coalesce(v[28], v[29]), '') AS location,
    -- The properties object as JSON text (decoded when it came as a JSON-encoded string;
    -- NULL when that string is not JSON).
    CASE
        WHEN properties_is_text AND NOT json_valid(coalesce(v[24], v[25])) THEN NULL
        ELSE coalesce(v[24], v[25])
    END AS properties,
    event_time_source,
    tenant_id,
    record AS raw,
    eventhub,
    partition_id,
    sequence_number,
    enqueued_time
FROM resource_path
ORDER BY event_time, record_id
