-- provisioning_logs: one row per provisioning record (ProvisioningLogs).
--
-- Input: `raw_hour`, the raw-lake rows of ProvisioningLogs for one event-time hour.
-- Each JSON record is parsed ONCE with json_transform into a struct of the fields used here
-- (leaves read as VARCHAR, then TRY_CAST / mapped: unparseable values become NULL, never an
-- error). `properties` sent as a JSON-encoded string is parsed in place first.
-- event_time comes from the raw lake (properties.activityDateTime; the US-locale times common in
-- provisioning records are parsed upstream, in UTC).
-- Quirks: the identity objects (servicePrincipal, sourceIdentity, targetIdentity, initiatedBy,
-- sourceSystem, targetSystem) come with Graph keys (id, displayName) or PascalCase ones (Id,
-- Name): they are read as small JSON texts and both spellings are tried. Statuses and step types
-- come as words or as numbers: numbers are mapped to Graph's words (status 0 success, 1 failure,
-- 2 skipped, 3 warning; step type 0 import, 1 scoping, 2 matching, 3 processing,
-- 4 referenceResolution, 5 export). The status falls back to the top-level resultType
-- (Success / Failure / Skipped), lower-cased.
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
              "correlationId": "VARCHAR", "resultType": "VARCHAR", "durationMs": "VARCHAR",
              "properties": {
                "id": "VARCHAR", "jobId": "VARCHAR", "cycleId": "VARCHAR", "changeId": "VARCHAR",
                "action": "VARCHAR", "provisioningAction": "VARCHAR",
                "durationInMilliseconds": "VARCHAR", "correlationId": "VARCHAR",
                "provisioningStatusInfo": {
                    "status": "VARCHAR",
                    "errorInformation": {"errorCode": "VARCHAR", "reason": "VARCHAR",
                                         "errorCategory": "VARCHAR"}
                },
                "provisioningSteps": [{"name": "VARCHAR", "provisioningStepType": "VARCHAR",
                                       "status": "VARCHAR", "description": "VARCHAR"}],
                "modifiedProperties": [{"displayName": "VARCHAR", "oldValue": "VARCHAR",
                                        "newValue": "VARCHAR"}],
                "servicePrincipal": "VARCHAR", "sourceSystem": "VARCHAR",
                "targetSystem": "VARCHAR", "sourceIdentity": "VARCHAR",
                "targetIdentity": "VARCHAR", "initiatedBy": "VARCHAR"
              }
            }')
),

identities AS (
    -- The small identity objects, as JSON (NULL when not valid JSON).
    SELECT
        *,
        CASE WHEN json_valid(p.servicePrincipal) THEN json(p.servicePrincipal) END AS sp,
        CASE WHEN json_valid(p.sourceSystem) THEN json(p.sourceSystem) END AS src_sys,
        CASE WHEN json_valid(p.targetSystem) THEN json(p.targetSystem) END AS tgt_sys,
        CASE WHEN json_valid(p.sourceIdentity) THEN json(p.sourceIdentity) END AS src_id,
        CASE WHEN json_valid(p.targetIdentity) THEN json(p.targetIdentity) END AS tgt_id,
        CASE WHEN json_valid(p.initiatedBy) THEN json(p.initiatedBy) END AS initiator
    FROM deduped
)

SELECT
    p.id AS id,
    event_time,
    category,
    p.jobId AS job_id,
    p.cycleId AS cycle_id,
    p.changeId AS change_id,
    lower(coalesce(nullif(p.provisioningAction, ''), nullif(p.action, ''))) AS action,
    CASE trim(coalesce(p.provisioningStatusInfo.status, j.resultType))
        WHEN '0' THEN 'success'
        WHEN '1' THEN 'failure'
        WHEN '2' THEN 'skipped'
        WHEN '3' THEN 'warning'
        ELSE nullif(lower(trim(coalesce(p.provisioningStatusInfo.status, j.resultType))), '')
    END AS status,
    nullif(p.provisioningStatusInfo.errorInformation.errorCode, '') AS error_code,
    nullif(p.provisioningStatusInfo.errorInformation.reason, '') AS error_reason,
    nullif(p.provisioningStatusInfo.errorInformation.errorCategory, '') AS error_category,
    coalesce(src_sys ->> '$.displayName', src_sys ->> '$.Name') AS source_system,
    coalesce(tgt_sys ->> '$.displayName', tgt_sys ->> '$.Name') AS target_system,
    coalesce(src_id ->> '$.id', src_id ->> '$.Id') AS source_identity_id,
    coalesce(src_id ->> '$.displayName', src_id ->> '$.Name') AS source_identity_name,
    coalesce(tgt_id ->> '$.id', tgt_id ->> '$.Id') AS target_identity_id,
    coalesce(tgt_id ->> '$.displayName', tgt_id ->> '$.Name') AS target_identity_name,
    coalesce(sp ->> '$.id', sp ->> '$.Id') AS service_principal_id,
    coalesce(sp ->> '$.displayName', sp ->> '$.Name') AS service_principal_name,
    coalesce(initiator ->> '$.displayName', initiator ->> '$.Name') AS initiated_by,
    list_transform(p.provisioningSteps, lambda s: {
        'name': s.name,
        'step_type': CASE trim(s.provisioningStepType)
            WHEN '0' THEN 'import' WHEN '1' THEN 'scoping' WHEN '2' THEN 'matching'
            WHEN '3' THEN 'processing' WHEN '4' THEN 'referenceResolution'
            WHEN '5' THEN 'export' ELSE s.provisioningStepType END,
        'status': CASE trim(s.status)
            WHEN '0' THEN 'success' WHEN '1' THEN 'failure' WHEN '2' THEN 'skipped'
            WHEN '3' THEN 'warning' ELSE s.status END,
        'description': s.description}) AS steps,
    list_transform(p.modifiedProperties, lambda m: {
        'display_name': m.displayName, 'old_value': m.oldValue, 'new_value': m.newValue})
        AS modified_properties,
    -- The first duration that parses as a number (either may be a string such as "14.2187").
    coalesce(TRY_CAST(TRY_CAST(p.durationInMilliseconds AS DOUBLE) AS BIGINT),
             TRY_CAST(TRY_CAST(j.durationMs AS DOUBLE) AS BIGINT)) AS duration_ms,
    {directory_envelope_columns}
FROM identities
