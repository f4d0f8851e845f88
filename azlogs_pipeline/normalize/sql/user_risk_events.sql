-- user_risk_events: one row per UserRiskEvents record (an Identity Protection risk detection).
--
-- Input: `raw_hour`, the raw-lake rows of UserRiskEvents for one event-time hour.
-- Dedupe: one row per record_id; exact duplicates (publishing retries, re-drains) collapse to the
-- first landed copy (`first_landed_copies`, in _macros.sql).
-- Two record shapes, each parsed ONCE with json_transform (every leaf read as VARCHAR, then
-- cast: a value that does not fit its type becomes NULL, never an error):
--   * `j`: the diagnostic-setting shape, camelCase fields under `properties` (which may itself
--     arrive as a JSON-encoded string: `parse_record` decodes it first);
--   * `lp`: the Log-Analytics shape, PascalCase fields at the top level, nested objects such as
--     `Location` as JSON-encoded strings (parsed only for records that may have such keys).
-- The camelCase value wins; the PascalCase one fills in. Empty strings are NULL.
-- event_time is the raw lake's: properties.activityDateTime, else `time`, else enqueued time.
-- detected_time and last_updated_time: any Entra time format, in UTC; outside 1970..2999 (such as
-- the 0001-01-01 "unset" sentinel) is NULL. IP addresses stay text (IPv6, CIDR, redacted `.XXX`);
-- the "no address" placeholders are NULL. additionalInfo is JSON, often JSON-encoded inside a
-- string: decoded; invalid is NULL.
WITH fields AS (
    SELECT *
    FROM record_shapes(raw_hour, '{
            "correlationId": "VARCHAR",
            "properties": {
                "id": "VARCHAR", "detectedDateTime": "VARCHAR", "lastUpdatedDateTime": "VARCHAR",
                "userId": "VARCHAR", "userPrincipalName": "VARCHAR", "userDisplayName": "VARCHAR",
                "riskEventType": "VARCHAR", "riskType": "VARCHAR", "riskLevel": "VARCHAR",
                "riskState": "VARCHAR", "riskDetail": "VARCHAR",
                "detectionTimingType": "VARCHAR", "activity": "VARCHAR", "source": "VARCHAR",
                "ipAddress": "VARCHAR",
                "location": {"countryOrRegion": "VARCHAR", "city": "VARCHAR", "state": "VARCHAR"},
                "requestId": "VARCHAR", "tokenIssuerType": "VARCHAR",
                "additionalInfo": "VARCHAR", "correlationId": "VARCHAR"
            }
        }', '{
            "Id": "VARCHAR", "DetectedDateTime": "VARCHAR", "LastUpdatedDateTime": "VARCHAR",
            "UserId": "VARCHAR", "UserPrincipalName": "VARCHAR", "UserDisplayName": "VARCHAR",
            "RiskEventType": "VARCHAR", "RiskType": "VARCHAR", "RiskLevel": "VARCHAR",
            "RiskState": "VARCHAR", "RiskDetail": "VARCHAR", "DetectionTimingType": "VARCHAR",
            "Activity": "VARCHAR", "Source": "VARCHAR", "IpAddress": "VARCHAR",
            "Location": "VARCHAR", "RequestId": "VARCHAR", "TokenIssuerType": "VARCHAR",
            "AdditionalInfo": "VARCHAR", "CorrelationId": "VARCHAR"
        }')
),

located AS (
    SELECT
        *,
        -- The PascalCase `Location` (JSON text) is decoded only when the camelCase one is absent.
        CASE
            WHEN j.properties.location.countryOrRegion IS NULL
                AND j.properties.location.city IS NULL
                THEN location_from_json_text(lp.Location)
        END AS pascal_location
    FROM fields
)

SELECT
    record_id,
    nullif(coalesce(p.id, lp.Id), '') AS id,
    event_time,
    entra_time(coalesce(p.detectedDateTime, lp.DetectedDateTime)) AS detected_time,
    entra_time(coalesce(p.lastUpdatedDateTime, lp.LastUpdatedDateTime)) AS last_updated_time,
    nullif(coalesce(p.userId, lp.UserId), '') AS user_id,
    nullif(coalesce(p.userPrincipalName, lp.UserPrincipalName), '') AS user_principal_name,
    nullif(coalesce(p.userDisplayName, lp.UserDisplayName), '') AS user_display_name,
    {risk_event_columns},
    {envelope_columns}
FROM located
ORDER BY event_time, record_id
