-- audit_logs: one row per audit record (AuditLogs).
--
-- Input: `raw_hour`, the raw-lake rows of AuditLogs for one event-time hour.
-- Each JSON record is parsed ONCE with json_transform into a struct of the fields used here
-- (leaves read as VARCHAR, then TRY_CAST / mapped: unparseable values become NULL, never an
-- error). `properties` sent as a JSON-encoded string is parsed in place first.
-- event_time comes from the raw lake (properties.activityDateTime, any format, in UTC).
-- `result` arrives as 0 / 1 / 2 or as words: numbers are mapped to Graph's words
-- (success, failure, timeout); words are lower-cased.
-- modifiedProperties old/new values are often JSON inside strings: kept as the text sent.
-- IP "no address" markers ('', '<null>', '&lt;null&gt;') become NULL; other shapes stay as text.
--
-- Dedupe: one row per record_id (exact duplicates from publishing retries and re-drains); the
-- first delivery wins: lowest (sequence_number, eventhub, partition_id, record_index)
-- (`first_landed_copies`, in _macros.sql, before parsing).
WITH deduped AS (
    -- Parsed once; `properties` sent as a JSON-encoded string is decoded first (rare).
    SELECT *
    FROM properties_shape(
            raw_hour,
            '{
              "correlationId": "VARCHAR", "callerIpAddress": "VARCHAR",
              "properties": {
                "id": "VARCHAR", "category": "VARCHAR", "activityDisplayName": "VARCHAR",
                "operationType": "VARCHAR", "result": "VARCHAR", "resultReason": "VARCHAR",
                "loggedByService": "VARCHAR", "correlationId": "VARCHAR",
                "initiatedBy": {
                    "user": {"id": "VARCHAR", "userPrincipalName": "VARCHAR",
                             "displayName": "VARCHAR", "ipAddress": "VARCHAR"},
                    "app": {"appId": "VARCHAR", "displayName": "VARCHAR",
                            "servicePrincipalId": "VARCHAR", "servicePrincipalName": "VARCHAR"}
                },
                "targetResources": [{
                    "id": "VARCHAR", "displayName": "VARCHAR", "type": "VARCHAR",
                    "userPrincipalName": "VARCHAR",
                    "modifiedProperties": [{"displayName": "VARCHAR", "oldValue": "VARCHAR",
                                            "newValue": "VARCHAR"}]
                }],
                "additionalDetails": [{"key": "VARCHAR", "value": "VARCHAR"}]
              }
            }')
)

SELECT
    p.id AS id,
    event_time,
    category,
    p.category AS audit_category,
    p.activityDisplayName AS activity_display_name,
    p.operationType AS operation_type,
    CASE trim(p.result)
        WHEN '0' THEN 'success'
        WHEN '1' THEN 'failure'
        WHEN '2' THEN 'timeout'
        ELSE nullif(lower(trim(p.result)), '')
    END AS result,
    nullif(p.resultReason, '') AS result_reason,
    p.loggedByService AS logged_by_service,
    nullif(p.initiatedBy.user.id, '') AS initiated_by_user_id,
    nullif(p.initiatedBy.user.userPrincipalName, '') AS initiated_by_upn,
    CASE
        WHEN trim(coalesce(nullif(p.initiatedBy.user.ipAddress, ''), j.callerIpAddress))
             IN ('', '<null>', '&lt;null&gt;') THEN NULL
        ELSE coalesce(nullif(p.initiatedBy.user.ipAddress, ''), j.callerIpAddress)
    END AS initiated_by_ip,
    nullif(p.initiatedBy.app.appId, '') AS initiated_by_app_id,
    nullif(p.initiatedBy.app.displayName, '') AS initiated_by_app_name,
    list_transform(p.targetResources, lambda t: t.id) AS target_ids,
    list_transform(p.targetResources, lambda t: t.displayName) AS target_names,
    list_transform(p.targetResources, lambda t: t.userPrincipalName) AS target_upns,
    list_transform(p.targetResources, lambda t: t.type) AS target_types,
    -- Every target's modified properties, flattened, each tagged with its target's id.
    flatten(list_transform(p.targetResources, lambda t: list_transform(
        coalesce(t.modifiedProperties, []),
        lambda m: {'target_id': t.id, 'display_name': m.displayName,
                   'old_value': m.oldValue, 'new_value': m.newValue}))) AS modified_properties,
    p.additionalDetails AS additional_details,
    {directory_envelope_columns}
FROM deduped
