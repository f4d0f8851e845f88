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
WITH parsed AS (
    SELECT
        r.*,
        parse_record(r.record, '{
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
        }') AS j,
        CASE WHEN may_have_pascal_keys(r.record) THEN json_transform(r.record, '{
            "Id": "VARCHAR", "DetectedDateTime": "VARCHAR", "LastUpdatedDateTime": "VARCHAR",
            "ServicePrincipalId": "VARCHAR", "AppId": "VARCHAR",
            "ServicePrincipalDisplayName": "VARCHAR",
            "RiskEventType": "VARCHAR", "RiskType": "VARCHAR", "RiskLevel": "VARCHAR",
            "RiskState": "VARCHAR", "RiskDetail": "VARCHAR", "DetectionTimingType": "VARCHAR",
            "Activity": "VARCHAR", "Source": "VARCHAR", "IpAddress": "VARCHAR",
            "Location": "VARCHAR", "RequestId": "VARCHAR", "TokenIssuerType": "VARCHAR",
            "AdditionalInfo": "VARCHAR", "KeyIds": "VARCHAR", "CorrelationId": "VARCHAR"
        }') END AS lp
    FROM first_landed_copies(raw_hour) AS r
),

fields AS (
    SELECT
        *,
        j.properties AS p,
        -- The PascalCase `Location` (JSON text) is decoded only when the camelCase one is absent.
        CASE
            WHEN j.properties.location.countryOrRegion IS NULL
                AND j.properties.location.city IS NULL
                THEN location_from_json_text(lp.Location)
        END AS pascal_location
    FROM parsed
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
    nullif(coalesce(p.riskEventType, lp.RiskEventType, p.riskType, lp.RiskType), '')
        AS risk_event_type,
    nullif(coalesce(p.riskLevel, lp.RiskLevel), '') AS risk_level,
    nullif(coalesce(p.riskState, lp.RiskState), '') AS risk_state,
    nullif(coalesce(p.riskDetail, lp.RiskDetail), '') AS risk_detail,
    nullif(coalesce(p.detectionTimingType, lp.DetectionTimingType), '') AS detection_timing_type,
    nullif(coalesce(p.activity, lp.Activity), '') AS activity,
    nullif(coalesce(p.source, lp.Source), '') AS source,
    -- `IPAddress` is the twin of `IpAddress` (struct field names ignore case): read apart, rarely.
    ip_address_text(coalesce(p.ipAddress, lp.IpAddress, record ->> '$.IPAddress')) AS ip_address,
    nullif(coalesce(p.location.countryOrRegion, pascal_location.countryOrRegion), '')
        AS location_country,
    nullif(coalesce(p.location.city, pascal_location.city), '') AS location_city,
    nullif(coalesce(p.location.state, pascal_location.state), '') AS location_state,
    nullif(coalesce(p.requestId, lp.RequestId), '') AS request_id,
    nullif(coalesce(p.tokenIssuerType, lp.TokenIssuerType), '') AS token_issuer_type,
    json_or_null(coalesce(p.additionalInfo, lp.AdditionalInfo)) AS additional_info,
    json_or_null(coalesce(p.keyIds, lp.KeyIds)) AS key_ids,
    event_time_source,
    operation_name,
    category,
    tenant_id,
    nullif(coalesce(j.correlationId, p.correlationId, lp.CorrelationId), '') AS correlation_id,
    eventhub,
    partition_id,
    sequence_number,
    enqueued_time
FROM fields
ORDER BY event_time, record_id
