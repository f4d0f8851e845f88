-- graph_activity_logs: one row per MicrosoftGraphActivityLogs record (one HTTP request to
-- Microsoft Graph).
--
-- Input `raw_hour`: raw-lake rows of this table's categories for one event-time hour.
-- Records come in two shapes: the diagnostic-setting shape (camelCase fields under `properties`,
-- which may itself arrive as a JSON-encoded string) and the Log-Analytics shape (PascalCase fields
-- at the top level). Each record is parsed once: json_extract_string with a list of paths reads
-- every value (both spellings) in one pass. Values that do not fit their type become NULL.
-- event_time is the raw lake's (`time`, else the enqueued time).
-- duration_ms: a number or a numeric string ("828", "14.2187"), rounded to whole milliseconds.
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
            '$.properties.requestId',             -- 1
            '$.RequestId',                        -- 2
            '$.properties.operationId',           -- 3
            '$.OperationId',                      -- 4
            '$.properties.clientRequestId',       -- 5
            '$.ClientRequestId',                  -- 6
            '$.properties.apiVersion',            -- 7
            '$.ApiVersion',                       -- 8
            '$.properties.requestMethod',         -- 9
            '$.RequestMethod',                    -- 10
            '$.properties.requestUri',            -- 11
            '$.RequestUri',                       -- 12
            '$.properties.responseStatusCode',    -- 13
            '$.ResponseStatusCode',               -- 14
            '$.resultSignature',                  -- 15
            '$.properties.responseSizeBytes',     -- 16
            '$.ResponseSizeBytes',                -- 17
            '$.properties.durationMs',            -- 18
            '$.DurationMs',                       -- 19
            '$.durationMs',                       -- 20
            '$.properties.appId',                 -- 21
            '$.AppId',                            -- 22
            '$.properties.userId',                -- 23
            '$.UserId',                           -- 24
            '$.properties.servicePrincipalId',    -- 25
            '$.ServicePrincipalId',               -- 26
            '$.properties.ipAddress',             -- 27
            '$.IPAddress',                        -- 28
            '$.IpAddress',                        -- 29
            '$.callerIpAddress',                  -- 30
            '$.properties.userAgent',             -- 31
            '$.UserAgent',                        -- 32
            '$.properties.signInActivityId',      -- 33
            '$.SignInActivityId',                 -- 34
            '$.properties.scopes',                -- 35
            '$.Scopes',                           -- 36
            '$.properties.roles',                 -- 37
            '$.Roles',                            -- 38
            '$.properties.wids',                  -- 39
            '$.Wids',                             -- 40
            '$.properties.clientAuthMethod',      -- 41
            '$.ClientAuthMethod',                 -- 42
            '$.properties.identityProvider',      -- 43
            '$.IdentityProvider',                 -- 44
            '$.properties.location',              -- 45
            '$.Location',                         -- 46
            '$.location',                         -- 47
            '$.correlationId',                    -- 48
            '$.properties.correlationId',         -- 49
            '$.CorrelationId'                     -- 50
        ]) AS v
    FROM documents
),
fields AS (
    SELECT
        *,
        trim(coalesce(v[27], v[28], v[29], v[30])) AS ip_text
    FROM extracted
)
SELECT
    record_id,
    event_time,
    nullif(coalesce(v[1], v[2]), '') AS request_id,
    nullif(coalesce(v[3], v[4]), '') AS operation_id,
    nullif(coalesce(v[5], v[6]), '') AS client_request_id,
    nullif(coalesce(v[7], v[8]), '') AS api_version,
    upper(nullif(trim(coalesce(v[9], v[10])), '')) AS request_method,
    nullif(coalesce(v[11], v[12]), '') AS request_uri,
    -- The status may be a number or a string; the top-level resultSignature repeats it.
    TRY_CAST(trim(coalesce(v[13], v[14], v[15])) AS INTEGER) AS response_status_code,
    TRY_CAST(round(TRY_CAST(coalesce(v[16], v[17]) AS DOUBLE)) AS BIGINT) AS response_size_bytes,
    TRY_CAST(round(TRY_CAST(coalesce(v[18], v[19], v[20]) AS DOUBLE)) AS BIGINT) AS duration_ms,
    nullif(coalesce(v[21], v[22]), '') AS app_id,
    nullif(coalesce(v[23], v[24]), '') AS user_id,
    nullif(coalesce(v[25], v[26]), '') AS service_principal_id,
    -- IP addresses stay text (IPv6, CIDR, redacted `.XXX` included); placeholders are NULL.
    CASE
        WHEN lower(ip_text) IN ('', '<null>', '&lt;null&gt;', 'null') THEN NULL
        ELSE ip_text
    END AS ip_address,
    nullif(coalesce(v[31], v[32]), '') AS user_agent,
    nullif(coalesce(v[33], v[34]), '') AS sign_in_activity_id,
    -- scopes, roles and wids as sent: space- or comma-separated text.
    nullif(coalesce(v[35], v[36]), '') AS scopes,
    nullif(coalesce(v[37], v[38]), '') AS roles,
    nullif(coalesce(v[39], v[40]), '') AS wids,
    nullif(coalesce(v[41], v[42]), '') AS client_auth_method,
    nullif(coalesce(v[43], v[44]), '') AS identity_provider,
    nullif(coalesce(v[45], v[46], v[47]), '') AS location,
    event_time_source,
    operation_name,
    category,
    tenant_id,
    nullif(coalesce(v[48], v[49], v[50]), '') AS correlation_id,
    record AS raw,
    eventhub,
    partition_id,
    sequence_number,
    enqueued_time
FROM fields
ORDER BY event_time, record_id
