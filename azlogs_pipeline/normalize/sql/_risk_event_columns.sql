-- The risk-detection columns user_risk_events and service_principal_risk_events share (the two
-- tables are twins: one for users, one for service principals), where the file says
-- `{risk_event_columns}`. They read the record's shapes `p` and `lp` (`record_shapes`, in
-- _macros.sql), the file's `pascal_location` and the raw record.
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
    json_or_null(coalesce(p.additionalInfo, lp.AdditionalInfo)) AS additional_info
