-- activity_logs: one row per Azure Activity log record (Administrative, Security, ServiceHealth,
-- Alert, Recommendation, Policy, Autoscale, ResourceHealth, and the older Action / Write).
--
-- Input `raw_hour`: raw-lake rows of this table's categories for one event-time hour.
-- Dedupe: one row per record_id; exact duplicates (publishing retries, re-drains) collapse to the
-- first landed copy (`first_landed_copies`, in _macros.sql).
-- Two key spellings, each parsed ONCE with json_transform (every leaf read as VARCHAR, then
-- cast: a value that does not fit its type becomes NULL, never an error; nothing fails the hour):
--   * `j`: camelCase keys (`level`, `properties`, `identity.claims...`); `properties` or
--     `identity` sent as a JSON-encoded string is decoded first (rare); `identity` may also be a
--     plain string (the caller);
--   * `lp`: PascalCase keys (`Level`, `Properties`, ...), parsed only for records that may have
--     such keys.
-- The camelCase value wins; the PascalCase one fills in. Empty strings are NULL.
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
WITH parsed AS (
    SELECT
        r.*,
        -- Only possible when the value is a string: the rare paths run only then.
        contains(r.record, '"properties":"') AS properties_is_text,
        contains(r.record, '"identity":"') AS identity_is_text,
        parse_record_repaired(
            r.record,
            properties_is_text OR identity_is_text,
            with_decoded_properties_and_identity(r.record),
            '{
              "resultType": "VARCHAR", "resultSignature": "VARCHAR", "level": "VARCHAR",
              "caller": "VARCHAR", "callerIpAddress": "VARCHAR", "correlationId": "VARCHAR",
              "durationMs": "VARCHAR", "location": "VARCHAR",
              "properties": "VARCHAR",
              "identity": {
                "claims": {
                  "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "VARCHAR",
                  "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": "VARCHAR",
                  "appid": "VARCHAR",
                  "http://schemas.microsoft.com/identity/claims/objectidentifier": "VARCHAR"
                },
                "authorization": {
                  "action": "VARCHAR", "scope": "VARCHAR",
                  "evidence": {"role": "VARCHAR", "principalId": "VARCHAR",
                               "principalType": "VARCHAR"}
                }
              }
            }'
        ) AS j,
        CASE WHEN may_have_pascal_keys(r.record) THEN json_transform(r.record, '{
            "ResultType": "VARCHAR", "ResultSignature": "VARCHAR", "Level": "VARCHAR",
            "Caller": "VARCHAR", "CallerIpAddress": "VARCHAR", "CorrelationId": "VARCHAR",
            "DurationMs": "VARCHAR", "Location": "VARCHAR", "Properties": "VARCHAR"
        }') END AS lp
    FROM first_landed_copies(raw_hour) AS r
),

extracted AS (
    SELECT
        *,
        j.identity.claims AS claims,
        j.identity.authorization AS authz,
        -- Two fields inside `properties` (JSON text here: an object, or a string that was not
        -- JSON, which has no fields).
        CASE
            WHEN json_valid(j.properties) THEN json_transform(
                j.properties, '{"statusCode": "VARCHAR", "eventCategory": "VARCHAR"}'
            )
        END AS pf,
        -- `identity` as a plain (non-JSON) string names the caller.
        CASE
            WHEN identity_is_text
                AND NOT starts_with(ltrim(record ->> '$.identity'), '{')
                THEN nullif(trim(record ->> '$.identity'), '')
        END AS identity_text
    FROM parsed
),
fields AS (
    SELECT
        *,
        trim(coalesce(j.level, lp.Level)) AS level_text,
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
    nullif(coalesce(j.resultType, lp.ResultType), '') AS result_type,
    nullif(coalesce(j.resultSignature, lp.ResultSignature), '') AS result_signature,
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
    nullif(coalesce(
        j.caller, lp.Caller,
        claims."http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
        claims."http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        claims.appid,
        identity_text
    ), '') AS caller,
    nullif(claims."http://schemas.microsoft.com/identity/claims/objectidentifier", '')
        AS caller_object_id,
    nullif(claims.appid, '') AS caller_app_id,
    -- IP addresses stay text (IPv6, CIDR, redacted `.XXX` included); placeholders are NULL.
    ip_address_text(coalesce(j.callerIpAddress, lp.CallerIpAddress)) AS caller_ip,
    nullif(coalesce(j.correlationId, lp.CorrelationId), '') AS correlation_id,
    rid AS resource_id,
    lower(nullif(segments[subscription_at + 1], '')) AS subscription_id,
    nullif(segments[group_at + 1], '') AS resource_group,
    nullif(segments[provider_at + 1], '') AS resource_provider,
    nullif(array_to_string([s FOR s, i IN provider_path IF i % 2 = 1], '/'), '') AS resource_type,
    nullif(array_to_string([s FOR s, i IN provider_path IF i % 2 = 0], '/'), '') AS resource_name,
    nullif(authz.action, '') AS authorization_action,
    nullif(authz.scope, '') AS authorization_scope,
    nullif(authz.evidence.role, '') AS authorization_role,
    nullif(authz.evidence.principalId, '') AS authorization_principal_id,
    nullif(authz.evidence.principalType, '') AS authorization_principal_type,
    nullif(pf.statusCode, '') AS status_code,
    nullif(pf.eventCategory, '') AS event_category,
    -- Duration: a number or a numeric string, rounded to whole milliseconds.
    TRY_CAST(round(TRY_CAST(coalesce(j.durationMs, lp.DurationMs) AS DOUBLE)) AS BIGINT)
        AS duration_ms,
    nullif(coalesce(j.location, lp.Location), '') AS location,
    -- The properties object as JSON text (decoded when it came as a JSON-encoded string;
    -- NULL when that string is not JSON).
    CASE
        WHEN properties_is_text AND NOT json_valid(coalesce(j.properties, lp.Properties))
            THEN NULL
        ELSE coalesce(j.properties, lp.Properties)
    END AS properties,
    event_time_source,
    tenant_id,
    eventhub,
    partition_id,
    sequence_number,
    enqueued_time
FROM resource_path
ORDER BY event_time, record_id
