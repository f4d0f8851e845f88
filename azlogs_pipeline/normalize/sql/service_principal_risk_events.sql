-- service_principal_risk_events: one row per ServicePrincipalRiskEvents record (an Identity
-- Protection risk detection on a service principal; the twin of user_risk_events).
--
-- Input: `raw_hour`, the raw-lake rows of ServicePrincipalRiskEvents for one event-time hour.
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
-- string: decoded; invalid is NULL. keyIds (the credentials involved) is a JSON list, likewise.
WITH fields AS (
    SELECT *
    FROM record_shapes(raw_hour, '{
            "correlationId": "VARCHAR",
            "properties": {
                "id": "VARCHAR", "detectedDateTime": "VARCHAR", "lastUpdatedDateTime": "VARCHAR",
                "servicePrincipalId": "VARCHAR", "appId": "VARCHAR",
                "servicePrincipalDisplayName": "VARCHAR",
                "riskEventType": "VARCHAR", "riskType": "VARCHAR", "riskLevel": "VARCHAR",
                "riskState": "VARCHAR", "riskDetail": "VARCHAR",
                "detectionTimingType": "VARCHAR", "activity": "VARCHAR", "source": "VARCHAR",
                "ipAddress": "VARCHAR",
                "location": {"countryOrRegion": "VARCHAR", "city": "VARCHAR", "state": "VARCHAR"},
                "requestId": "VARCHAR", "tokenIssuerType": "VARCHAR",
                "additionalInfo": "VARCHAR", "keyIds": "VARCHAR", "correlationId": "VARCHAR"
            }
        }', '{
            "Id": "VARCHAR", "DetectedDateTime": "VARCHAR", "LastUpdatedDateTime": "VARCHAR",
            "ServicePrincipalId": "VARCHAR", "AppId": "VARCHAR",
            "ServicePrincipalDisplayName": "VARCHAR",
            "RiskEventType": "VARCHAR", "RiskType": "VARCHAR", "RiskLevel": "VARCHAR",
            "RiskState": "VARCHAR", "RiskDetail": "VARCHAR", "DetectionTimingType": "VARCHAR",
            "Activity": "VARCHAR", "Source": "VARCHAR", "IpAddress": "VARCHAR",
            "Location": "VARCHAR", "RequestId": "VARCHAR", "TokenIssuerType": "VARCHAR",
            "AdditionalInfo": "VARCHAR", "KeyIds": "VARCHAR", "CorrelationId": "VARCHAR"
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
    nullif(coalesce(p.servicePrincipalId, lp.ServicePrincipalId), '') AS service_principal_id,
    nullif(coalesce(p.appId, lp.AppId), '') AS app_id,
    nullif(coalesce(p.servicePrincipalDisplayName, lp.ServicePrincipalDisplayName), '')
        AS service_principal_display_name,
    {risk_event_columns},
    json_or_null(coalesce(p.keyIds, lp.KeyIds)) AS key_ids,
    {envelope_columns}
FROM located
ORDER BY event_time, record_id
