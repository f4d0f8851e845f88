-- graph_activity_logs: one row per MicrosoftGraphActivityLogs record (one HTTP request to
-- Microsoft Graph).
--
-- Input: `raw_hour`, the raw-lake rows of MicrosoftGraphActivityLogs for one event-time hour.
-- Dedupe: one row per record_id; exact duplicates (publishing retries, re-drains) collapse to the
-- first landed copy (`first_landed_copies`, in _macros.sql).
-- Two record shapes, each parsed ONCE with json_transform (every leaf read as VARCHAR, then
-- cast: a value that does not fit its type becomes NULL, never an error):
--   * `j`: the diagnostic-setting shape, camelCase fields under `properties` (which may itself
--     arrive as a JSON-encoded string: `parse_record` decodes it first) and a few top-level ones;
--   * `lp`: the Log-Analytics shape, PascalCase fields at the top level (parsed only for records
--     that may have such keys).
-- The `properties` value wins, then the PascalCase one, then the top-level camelCase one.
-- Empty strings are NULL.
-- event_time is the raw lake's (`time`, else the enqueued time).
-- response_status_code: a number or a string; the top-level resultSignature repeats it.
-- response_size_bytes, duration_ms: a number or a numeric string ("828", "14.2187"), rounded.
-- IP addresses stay text (IPv6, CIDR, redacted `.XXX`); the "no address" placeholders are NULL.
-- scopes, roles and wids as sent: space- or comma-separated text.
WITH fields AS (
    SELECT *
    FROM record_shapes(raw_hour, '{
            "resultSignature": "VARCHAR", "durationMs": "VARCHAR",
            "callerIpAddress": "VARCHAR", "location": "VARCHAR", "correlationId": "VARCHAR",
            "properties": {
                "requestId": "VARCHAR", "operationId": "VARCHAR", "clientRequestId": "VARCHAR",
                "apiVersion": "VARCHAR", "requestMethod": "VARCHAR", "requestUri": "VARCHAR",
                "responseStatusCode": "VARCHAR", "responseSizeBytes": "VARCHAR",
                "durationMs": "VARCHAR", "appId": "VARCHAR", "userId": "VARCHAR",
                "servicePrincipalId": "VARCHAR", "ipAddress": "VARCHAR", "userAgent": "VARCHAR",
                "signInActivityId": "VARCHAR", "scopes": "VARCHAR", "roles": "VARCHAR",
                "wids": "VARCHAR", "clientAuthMethod": "VARCHAR", "identityProvider": "VARCHAR",
                "location": "VARCHAR", "correlationId": "VARCHAR"
            }
        }', '{
            "RequestId": "VARCHAR", "OperationId": "VARCHAR", "ClientRequestId": "VARCHAR",
            "ApiVersion": "VARCHAR", "RequestMethod": "VARCHAR", "RequestUri": "VARCHAR",
            "ResponseStatusCode": "VARCHAR", "ResponseSizeBytes": "VARCHAR",
            "DurationMs": "VARCHAR", "AppId": "VARCHAR", "UserId": "VARCHAR",
            "ServicePrincipalId": "VARCHAR", "IPAddress": "VARCHAR", "UserAgent": "VARCHAR",
            "SignInActivityId": "VARCHAR", "Scopes": "VARCHAR", "Roles": "VARCHAR",
            "Wids": "VARCHAR", "ClientAuthMethod": "VARCHAR", "IdentityProvider": "VARCHAR",
            "Location": "VARCHAR", "CorrelationId": "VARCHAR"
        }')
)

SELECT
    record_id,
    event_time,
    nullif(coalesce(p.requestId, lp.RequestId), '') AS request_id,
    nullif(coalesce(p.operationId, lp.OperationId), '') AS operation_id,
    nullif(coalesce(p.clientRequestId, lp.ClientRequestId), '') AS client_request_id,
    nullif(coalesce(p.apiVersion, lp.ApiVersion), '') AS api_version,
    upper(nullif(trim(coalesce(p.requestMethod, lp.RequestMethod)), '')) AS request_method,
    nullif(coalesce(p.requestUri, lp.RequestUri), '') AS request_uri,
    TRY_CAST(trim(coalesce(p.responseStatusCode, lp.ResponseStatusCode, j.resultSignature))
        AS INTEGER) AS response_status_code,
    TRY_CAST(round(TRY_CAST(coalesce(p.responseSizeBytes, lp.ResponseSizeBytes) AS DOUBLE))
        AS BIGINT) AS response_size_bytes,
    TRY_CAST(round(TRY_CAST(coalesce(p.durationMs, lp.DurationMs, j.durationMs) AS DOUBLE))
        AS BIGINT) AS duration_ms,
    nullif(coalesce(p.appId, lp.AppId), '') AS app_id,
    nullif(coalesce(p.userId, lp.UserId), '') AS user_id,
    nullif(coalesce(p.servicePrincipalId, lp.ServicePrincipalId), '') AS service_principal_id,
    -- `IpAddress` is the twin of `IPAddress` (struct field names ignore case): read apart, rarely.
    ip_address_text(coalesce(
        p.ipAddress, lp.IPAddress, record ->> '$.IpAddress', j.callerIpAddress
    )) AS ip_address,
    nullif(coalesce(p.userAgent, lp.UserAgent), '') AS user_agent,
    nullif(coalesce(p.signInActivityId, lp.SignInActivityId), '') AS sign_in_activity_id,
    nullif(coalesce(p.scopes, lp.Scopes), '') AS scopes,
    nullif(coalesce(p.roles, lp.Roles), '') AS roles,
    nullif(coalesce(p.wids, lp.Wids), '') AS wids,
    nullif(coalesce(p.clientAuthMethod, lp.ClientAuthMethod), '') AS client_auth_method,
    nullif(coalesce(p.identityProvider, lp.IdentityProvider), '') AS identity_provider,
    nullif(coalesce(p.location, lp.Location, j.location), '') AS location,
    {envelope_columns}
FROM fields
ORDER BY event_time, record_id
