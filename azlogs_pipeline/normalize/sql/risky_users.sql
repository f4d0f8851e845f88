-- risky_users: one row per RiskyUsers record (a snapshot of one user's risk at event_time).
--
-- Input: `raw_hour`, the raw-lake rows of RiskyUsers for one event-time hour.
-- Dedupe: one row per record_id; exact duplicates (publishing retries, re-drains) collapse to the
-- first landed copy (`first_landed_copies`, in _macros.sql).
-- Two record shapes, each parsed ONCE with json_transform (every leaf read as VARCHAR, then
-- cast: a value that does not fit its type becomes NULL, never an error):
--   * `j`: the diagnostic-setting shape, camelCase fields under `properties` (which may itself
--     arrive as a JSON-encoded string: `parse_record` decodes it first);
--   * `lp`: the Log-Analytics shape, PascalCase fields at the top level (parsed only for records
--     that may have such keys).
-- The camelCase value wins; the PascalCase one fills in. Empty strings are NULL.
-- Booleans may be true/false or their strings in any casing; anything else is NULL.
-- event_time is the raw lake's: properties.riskLastUpdatedDateTime, else `time`, else enqueued.
-- risk_last_updated_time: any Entra time format, in UTC; outside 1970..2999 (such as the
-- 0001-01-01 "unset" sentinel) is NULL.
WITH fields AS (
    SELECT *
    FROM record_shapes(raw_hour, '{
            "correlationId": "VARCHAR",
            "properties": {
                "id": "VARCHAR", "userId": "VARCHAR", "userPrincipalName": "VARCHAR",
                "userDisplayName": "VARCHAR", "riskLevel": "VARCHAR", "riskState": "VARCHAR",
                "riskDetail": "VARCHAR", "isDeleted": "VARCHAR", "isProcessing": "VARCHAR",
                "isGuest": "VARCHAR", "riskLastUpdatedDateTime": "VARCHAR",
                "correlationId": "VARCHAR"
            }
        }', '{
            "Id": "VARCHAR", "UserId": "VARCHAR", "UserPrincipalName": "VARCHAR",
            "UserDisplayName": "VARCHAR", "RiskLevel": "VARCHAR", "RiskState": "VARCHAR",
            "RiskDetail": "VARCHAR", "IsDeleted": "VARCHAR", "IsProcessing": "VARCHAR",
            "IsGuest": "VARCHAR", "RiskLastUpdatedDateTime": "VARCHAR",
            "CorrelationId": "VARCHAR"
        }')
)

SELECT
    record_id,
    nullif(coalesce(p.id, p.userId, lp.Id, lp.UserId), '') AS user_id,
    event_time,
    nullif(coalesce(p.userPrincipalName, lp.UserPrincipalName), '') AS user_principal_name,
    nullif(coalesce(p.userDisplayName, lp.UserDisplayName), '') AS user_display_name,
    nullif(coalesce(p.riskLevel, lp.RiskLevel), '') AS risk_level,
    nullif(coalesce(p.riskState, lp.RiskState), '') AS risk_state,
    nullif(coalesce(p.riskDetail, lp.RiskDetail), '') AS risk_detail,
    TRY_CAST(coalesce(p.isDeleted, lp.IsDeleted) AS BOOLEAN) AS is_deleted,
    TRY_CAST(coalesce(p.isProcessing, lp.IsProcessing) AS BOOLEAN) AS is_processing,
    TRY_CAST(coalesce(p.isGuest, lp.IsGuest) AS BOOLEAN) AS is_guest,
    entra_time(coalesce(p.riskLastUpdatedDateTime, lp.RiskLastUpdatedDateTime))
        AS risk_last_updated_time,
    {envelope_columns}
FROM fields
ORDER BY event_time, record_id
