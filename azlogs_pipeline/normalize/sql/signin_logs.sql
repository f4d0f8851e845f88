-- signin_logs: one row per sign-in, from SignInLogs, NonInteractiveUserSignInLogs,
-- ServicePrincipalSignInLogs, ManagedIdentitySignInLogs, ADFSSignInLogs and look-alikes
-- (any category ending in SignInLogs, e.g. MicrosoftServicePrincipalSignInLogs).
--
-- Input: `raw_hour`, the raw-lake rows of these categories for one event-time hour, with the column
-- `shared_key`: whether another record of the hour has the record's `dedupe_key` (NULL counted as
-- one key; normalize/hour.py computes it with _shared_keys.sql, ranges with _range_raw.sql).
--
-- Parsing. Each JSON record is parsed ONCE with json_transform into a struct of the fields used
-- here (every leaf read as VARCHAR, then TRY_CAST: numbers sent as strings such as "50126" or
-- "828" parse, anything unparseable becomes NULL and never fails the hour). Two record shapes:
--   * Azure Monitor shape: fields under `properties` (which may itself be a JSON-encoded string);
--   * Log-Analytics shape (some service-principal sign-ins): PascalCase top-level keys
--     (`Id`, `CreatedDateTime`, `AppId`, `IPAddress`, ...), no `time`, nested objects as JSON text.
--     Only records without `properties` are parsed a second time for these keys.
-- event_time comes from the raw lake (properties.createdDateTime, any format, already in UTC).
-- IP addresses stay text as sent (IPv6, CIDR, redacted `.XXX` kept); the "no address" markers
-- '', '<null>' and '&lt;null&gt;' become NULL.
--
-- Dedupe. Azure sends several records for one sign-in `id`: exact duplicates (publishing retries,
-- re-drains), a near-identical copy carrying the risk once risk is found, and Conditional Access
-- splits (the policies divided between records). One row per `id` is kept:
--   1. a version carrying risk information wins over one without (the risk copy);
--   2. then the most recently processed one (top-level `time`, latest first);
--   3. then the one with the most applied Conditional Access policies (most complete);
--   4. then the lowest record_id, then the lowest (sequence_number, eventhub, partition_id,
--      record_index): the first delivery of an exact duplicate.
-- applied_ca_policies of a sign-in sent as several records is the union of every version's
-- policies (distinct, sorted by policy id), so split records lose nothing.
-- Records without an `id` are never merged with each other: they are keyed by record_id.
--
-- Only the records that may be versions of one sign-in go through that ranking: those whose raw
-- `dedupe_key` (the drain's copy of the id, else the record_id: lake/raw_schema.py) another record
-- of the hour shares (`shared_key`). Every other record is the only version of its sign-in and
-- passes straight from the parse to the output, in the raw files' order (no window, no sort over
-- the hour); the ranked ones follow, by (event_time, record_id). A NULL key (raw files written before the column
-- existed) is unknown: all such records are ranked together, as every record once was. Keys only
-- choose the path: the build checks the ids it wrote are unique (normalize/hour.py), and builds
-- the hour again with every key NULL when they are not.
WITH split AS NOT MATERIALIZED (
    -- Decided before the parse, so each branch below parses only its own records. `shared_key`
    -- is a column (not a join: a join would hand the rows on in the order its threads finish
    -- them); when no key is shared it is the constant false and the ranked branch is empty
    -- without reading the raw files a second time.
    SELECT * EXCLUDE (shared_key), false AS ranked_key
    FROM raw_hour
    WHERE NOT shared_key
    UNION ALL
    SELECT * EXCLUDE (shared_key), true AS ranked_key
    FROM raw_hour
    WHERE shared_key
),

parsed AS NOT MATERIALIZED (
    SELECT
        r.record_id, r.event_time, r.category, r.tenant_id, r.record AS raw,
        r.eventhub, r.partition_id, r.sequence_number, r.enqueued_time, r.record_index,
        r.ranked_key,
        -- Parsed once; `properties` sent as a JSON-encoded string is decoded first (rare).
        parse_record(
            r.record,
            '{
              "time": "VARCHAR", "correlationId": "VARCHAR", "resultType": "VARCHAR",
              "durationMs": "VARCHAR",
              "properties": {
                "id": "VARCHAR", "userId": "VARCHAR", "userPrincipalName": "VARCHAR",
                "userDisplayName": "VARCHAR", "userType": "VARCHAR", "appId": "VARCHAR",
                "appDisplayName": "VARCHAR", "resourceDisplayName": "VARCHAR",
                "servicePrincipalId": "VARCHAR", "servicePrincipalName": "VARCHAR",
                "ipAddress": "VARCHAR", "autonomousSystemNumber": "VARCHAR",
                "clientAppUsed": "VARCHAR", "userAgent": "VARCHAR", "isInteractive": "VARCHAR",
                "correlationId": "VARCHAR", "conditionalAccessStatus": "VARCHAR",
                "authenticationRequirement": "VARCHAR",
                "status": {"errorCode": "VARCHAR", "failureReason": "VARCHAR",
                           "additionalDetails": "VARCHAR"},
                "location": {"city": "VARCHAR", "state": "VARCHAR", "countryOrRegion": "VARCHAR",
                             "geoCoordinates": {"latitude": "VARCHAR", "longitude": "VARCHAR"}},
                "deviceDetail": {"deviceId": "VARCHAR", "operatingSystem": "VARCHAR",
                                 "browser": "VARCHAR", "isCompliant": "VARCHAR",
                                 "isManaged": "VARCHAR", "trustType": "VARCHAR"},
                "riskLevelAggregated": "VARCHAR", "riskLevelDuringSignIn": "VARCHAR",
                "riskState": "VARCHAR", "riskDetail": "VARCHAR",
                "riskEventTypes_v2": ["VARCHAR"], "riskEventTypes": ["VARCHAR"],
                "appliedConditionalAccessPolicies": [
                    {"id": "VARCHAR", "displayName": "VARCHAR", "result": "VARCHAR",
                     "enforcedGrantControls": ["VARCHAR"],
                     "enforcedSessionControls": ["VARCHAR"]}],
                "authenticationDetails": [
                    {"authenticationMethod": "VARCHAR",
                     "authenticationStepRequirement": "VARCHAR"}],
                "mfaDetail": {"authMethod": "VARCHAR"},
                "tokenIssuerType": "VARCHAR", "crossTenantAccessType": "VARCHAR",
                "homeTenantId": "VARCHAR", "resourceTenantId": "VARCHAR",
                "processingTimeInMilliseconds": "VARCHAR",
                "sessionId": "VARCHAR", "authenticationProtocol": "VARCHAR",
                "uniqueTokenIdentifier": "VARCHAR"
              }
            }') AS j
    FROM split AS r
),

with_pascal AS NOT MATERIALIZED (
    -- Log-Analytics-shaped records (no `properties`): read their PascalCase top-level keys.
    -- Nested objects are read as text (an object or a JSON-encoded string) and parsed below.
    SELECT
        *,
        j.properties AS p,
        CASE WHEN j.properties IS NULL THEN json_transform(raw, '{
            "Id": "VARCHAR", "UserId": "VARCHAR", "UserPrincipalName": "VARCHAR",
            "UserDisplayName": "VARCHAR", "UserType": "VARCHAR", "AppId": "VARCHAR",
            "AppDisplayName": "VARCHAR", "ResourceDisplayName": "VARCHAR",
            "ServicePrincipalId": "VARCHAR", "ServicePrincipalName": "VARCHAR",
            "IPAddress": "VARCHAR", "AutonomousSystemNumber": "VARCHAR",
            "ClientAppUsed": "VARCHAR", "UserAgent": "VARCHAR", "IsInteractive": "VARCHAR",
            "CorrelationId": "VARCHAR", "ConditionalAccessStatus": "VARCHAR",
            "AuthenticationRequirement": "VARCHAR", "Status": "VARCHAR",
            "LocationDetails": "VARCHAR", "DeviceDetail": "VARCHAR",
            "RiskLevelAggregated": "VARCHAR", "RiskLevelDuringSignIn": "VARCHAR",
            "RiskState": "VARCHAR", "RiskDetail": "VARCHAR", "RiskEventTypes_V2": "VARCHAR",
            "RiskEventTypes": "VARCHAR", "ConditionalAccessPolicies": "VARCHAR",
            "AuthenticationDetails": "VARCHAR", "MfaDetail": "VARCHAR",
            "TokenIssuerType": "VARCHAR", "CrossTenantAccessType": "VARCHAR",
            "HomeTenantId": "VARCHAR", "ResourceTenantId": "VARCHAR",
            "ProcessingTimeInMilliseconds": "VARCHAR", "DurationMs": "VARCHAR",
            "ResultType": "VARCHAR", "SessionId": "VARCHAR",
            "AuthenticationProtocol": "VARCHAR", "UniqueTokenIdentifier": "VARCHAR"
        }') END AS lp
    FROM parsed
),

fields AS NOT MATERIALIZED (
    -- One shape for both: Azure Monitor value first, Log-Analytics value otherwise.
    SELECT
        record_id, event_time, category, tenant_id,
        eventhub, partition_id, sequence_number, enqueued_time, record_index, ranked_key,
        coalesce(p.id, lp.Id) AS id,
        TRY_CAST(j.time AS TIMESTAMPTZ) AS processed_time,
        coalesce(p.correlationId, j.correlationId, lp.CorrelationId) AS correlation_id,
        coalesce(p.userId, lp.UserId) AS user_id,
        coalesce(p.userPrincipalName, lp.UserPrincipalName) AS user_principal_name,
        coalesce(p.userDisplayName, lp.UserDisplayName) AS user_display_name,
        coalesce(p.userType, lp.UserType) AS user_type,
        coalesce(p.appId, lp.AppId) AS app_id,
        coalesce(p.appDisplayName, lp.AppDisplayName) AS app_display_name,
        coalesce(p.resourceDisplayName, lp.ResourceDisplayName) AS resource_display_name,
        coalesce(p.servicePrincipalId, lp.ServicePrincipalId) AS service_principal_id,
        coalesce(p.servicePrincipalName, lp.ServicePrincipalName) AS service_principal_name,
        coalesce(p.ipAddress, lp.IPAddress) AS ip_text,
        coalesce(p.autonomousSystemNumber, lp.AutonomousSystemNumber) AS asn_text,
        coalesce(p.clientAppUsed, lp.ClientAppUsed) AS client_app_used,
        coalesce(p.userAgent, lp.UserAgent) AS user_agent,
        coalesce(p.isInteractive, lp.IsInteractive) AS interactive_text,
        coalesce(p.conditionalAccessStatus, lp.ConditionalAccessStatus)
            AS conditional_access_status,
        coalesce(p.authenticationRequirement, lp.AuthenticationRequirement)
            AS authentication_requirement,
        coalesce(p.status, CASE WHEN json_valid(lp.Status) THEN json_transform(lp.Status,
            '{"errorCode": "VARCHAR", "failureReason": "VARCHAR",
              "additionalDetails": "VARCHAR"}') END) AS status,
        coalesce(j.resultType, lp.ResultType) AS result_type,
        coalesce(p.location, CASE WHEN json_valid(lp.LocationDetails) THEN json_transform(
            lp.LocationDetails,
            '{"city": "VARCHAR", "state": "VARCHAR", "countryOrRegion": "VARCHAR",
              "geoCoordinates": {"latitude": "VARCHAR", "longitude": "VARCHAR"}}') END)
            AS location,
        coalesce(p.deviceDetail, CASE WHEN json_valid(lp.DeviceDetail) THEN json_transform(
            lp.DeviceDetail,
            '{"deviceId": "VARCHAR", "operatingSystem": "VARCHAR", "browser": "VARCHAR",
              "isCompliant": "VARCHAR", "isManaged": "VARCHAR", "trustType": "VARCHAR"}') END)
            AS device,
        coalesce(p.riskLevelAggregated, lp.RiskLevelAggregated) AS risk_level_aggregated,
        coalesce(p.riskLevelDuringSignIn, lp.RiskLevelDuringSignIn) AS risk_level_during_signin,
        coalesce(p.riskState, lp.RiskState) AS risk_state,
        coalesce(p.riskDetail, lp.RiskDetail) AS risk_detail,
        coalesce(p.riskEventTypes_v2, CASE WHEN json_valid(lp.RiskEventTypes_V2)
            THEN json_transform(lp.RiskEventTypes_V2, '["VARCHAR"]') END) AS risk_types_v2,
        coalesce(p.riskEventTypes, CASE WHEN json_valid(lp.RiskEventTypes)
            THEN json_transform(lp.RiskEventTypes, '["VARCHAR"]') END) AS risk_types_v1,
        coalesce(p.appliedConditionalAccessPolicies,
            CASE WHEN json_valid(lp.ConditionalAccessPolicies) THEN json_transform(
                lp.ConditionalAccessPolicies,
                '[{"id": "VARCHAR", "displayName": "VARCHAR", "result": "VARCHAR",
                   "enforcedGrantControls": ["VARCHAR"],
                   "enforcedSessionControls": ["VARCHAR"]}]') END) AS applied_ca_policies,
        coalesce(p.authenticationDetails, CASE WHEN json_valid(lp.AuthenticationDetails)
            THEN json_transform(lp.AuthenticationDetails,
                '[{"authenticationMethod": "VARCHAR",
                   "authenticationStepRequirement": "VARCHAR"}]') END) AS auth_details,
        coalesce(p.mfaDetail.authMethod, CASE WHEN json_valid(lp.MfaDetail)
            THEN json_extract_string(lp.MfaDetail, '$.authMethod') END) AS mfa_detail_method,
        coalesce(p.tokenIssuerType, lp.TokenIssuerType) AS token_issuer_type,
        coalesce(p.crossTenantAccessType, lp.CrossTenantAccessType) AS cross_tenant_access_type,
        coalesce(p.homeTenantId, lp.HomeTenantId) AS home_tenant_id,
        coalesce(p.resourceTenantId, lp.ResourceTenantId) AS resource_tenant_id,
        nullif(coalesce(p.sessionId, lp.SessionId), '') AS session_id,
        nullif(coalesce(p.authenticationProtocol, lp.AuthenticationProtocol), '')
            AS authentication_protocol,
        nullif(coalesce(p.uniqueTokenIdentifier, lp.UniqueTokenIdentifier), '')
            AS unique_token_identifier,
        -- The sign-in's own processing time; the envelope's durationMs (mostly "0") otherwise:
        -- the first that parses as a number (strings such as "828" or "14.2187" included).
        coalesce(
            TRY_CAST(TRY_CAST(coalesce(p.processingTimeInMilliseconds,
                                       lp.ProcessingTimeInMilliseconds) AS DOUBLE) AS BIGINT),
            TRY_CAST(TRY_CAST(coalesce(j.durationMs, lp.DurationMs) AS DOUBLE) AS BIGINT)
        ) AS duration_ms
    FROM with_pascal
),

typed AS NOT MATERIALIZED (
    SELECT
        *,
        coalesce(TRY_CAST(status.errorCode AS INTEGER), TRY_CAST(result_type AS INTEGER))
            AS error_code,
        CASE WHEN len(risk_types_v2) > 0 OR risk_types_v1 IS NULL THEN risk_types_v2
             ELSE risk_types_v1 END AS risk_event_types
    FROM fields
),

ranked AS (
    SELECT
        *,
        coalesce(id, 'record:' || record_id) AS signin_key,
        row_number() OVER (
            PARTITION BY coalesce(id, 'record:' || record_id)
            ORDER BY
                (coalesce(risk_level_aggregated, 'none') NOT IN ('none', 'hidden')
                 OR coalesce(risk_level_during_signin, 'none') NOT IN ('none', 'hidden')
                 OR coalesce(risk_state, 'none') <> 'none'
                 OR len(risk_event_types) > 0) DESC,
                processed_time DESC NULLS LAST,
                len(applied_ca_policies) DESC NULLS LAST,
                record_id, sequence_number, eventhub, partition_id, record_index
        ) AS version_rank,
        count(*) OVER (PARTITION BY coalesce(id, 'record:' || record_id)) AS versions
    FROM typed
    WHERE ranked_key
),

merged_policies AS (
    -- Union of the Conditional Access policies of every version of a multi-record sign-in.
    SELECT signin_key, list_sort(list_distinct(flatten(list(applied_ca_policies)))) AS policies
    FROM ranked
    WHERE versions > 1
    GROUP BY signin_key
),

kept AS NOT MATERIALIZED (
    -- The records of a key no other record has, then the kept version of each ranked sign-in.
    SELECT *, 1::BIGINT AS versions, NULL AS policies, true AS single
    FROM typed
    WHERE NOT ranked_key
    UNION ALL BY NAME
    SELECT r.* EXCLUDE (signin_key, version_rank), m.policies, false AS single
    FROM ranked AS r
    LEFT JOIN merged_policies AS m USING (signin_key)
    WHERE version_rank = 1
),

signin_rows AS NOT MATERIALIZED (
    SELECT
        single,
        id,
        event_time,
        category,
        CASE
            WHEN lower(category) = 'signinlogs' THEN 'interactive'
            WHEN lower(category) LIKE '%noninteractive%' THEN 'non_interactive'
            WHEN lower(category) LIKE '%managedidentity%' THEN 'managed_identity'
            WHEN lower(category) LIKE '%serviceprincipal%' THEN 'service_principal'
            WHEN lower(category) LIKE '%adfs%' THEN 'adfs'
            ELSE 'interactive'
        END AS signin_type,
        user_id,
        user_principal_name,
        user_display_name,
        user_type,
        app_id,
        app_display_name,
        resource_display_name,
        service_principal_id,
        service_principal_name,
        CASE WHEN trim(ip_text) IN ('', '<null>', '&lt;null&gt;') THEN NULL ELSE ip_text END
            AS ip_address,
        TRY_CAST(TRY_CAST(asn_text AS DOUBLE) AS BIGINT) AS autonomous_system_number,
        client_app_used,
        user_agent,
        TRY_CAST(interactive_text AS BOOLEAN) AS is_interactive,
        error_code,
        nullif(status.failureReason, '') AS failure_reason,
        nullif(status.additionalDetails, '') AS additional_details,
        -- 0 is success; 50140 ("keep me signed in"), 50058 (no session yet) and 90025 (internal
        -- retry) are expected interrupts, not failures; every other code is a failure.
        CASE
            WHEN error_code = 0 THEN 'success'
            WHEN error_code IN (50140, 50058, 90025) THEN 'interrupted'
            WHEN error_code IS NOT NULL THEN 'failure'
        END AS result,
        conditional_access_status,
        authentication_requirement,
        -- Second-factor methods used (authenticationDetails steps of multifactor requirement),
        -- else the legacy mfaDetail.authMethod; [] when none.
        coalesce(
            nullif(list_sort(list_distinct(list_transform(
                list_filter(auth_details, lambda d: d.authenticationStepRequirement ILIKE 'multifactor%'
                                                AND coalesce(d.authenticationMethod, '') <> ''),
                lambda d: d.authenticationMethod))), []),
            CASE WHEN coalesce(mfa_detail_method, '') <> '' THEN [mfa_detail_method] END,
            []::VARCHAR[]
        ) AS mfa_methods,
        nullif(location.city, '') AS location_city,
        nullif(location.state, '') AS location_state,
        nullif(location.countryOrRegion, '') AS location_country,
        TRY_CAST(location.geoCoordinates.latitude AS DOUBLE) AS latitude,
        TRY_CAST(location.geoCoordinates.longitude AS DOUBLE) AS longitude,
        nullif(device.deviceId, '') AS device_id,
        nullif(device.operatingSystem, '') AS device_os,
        nullif(device.browser, '') AS device_browser,
        TRY_CAST(device.isCompliant AS BOOLEAN) AS device_is_compliant,
        TRY_CAST(device.isManaged AS BOOLEAN) AS device_is_managed,
        nullif(device.trustType, '') AS device_trust_type,
        risk_level_aggregated,
        risk_level_during_signin,
        risk_state,
        risk_detail,
        risk_event_types,
        coalesce(policies, applied_ca_policies) AS applied_ca_policies,
        token_issuer_type,
        cross_tenant_access_type,
        home_tenant_id,
        resource_tenant_id,
        duration_ms,
        session_id,
        authentication_protocol,
        unique_token_identifier,
        record_id,
        tenant_id,
        correlation_id,
        eventhub,
        partition_id,
        sequence_number,
        enqueued_time,
        versions AS source_records
    FROM kept
)

SELECT * EXCLUDE (single) FROM signin_rows WHERE single
UNION ALL
(SELECT * EXCLUDE (single) FROM signin_rows WHERE NOT single ORDER BY event_time, record_id)
