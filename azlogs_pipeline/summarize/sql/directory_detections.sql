-- directory_detections: changes to the tenant's configuration an attacker makes to stay in,
-- one row per finding (the columns of the `detections` view).
--
-- Input: `audit_logs`, `signin_logs` and `user_risk_events` of the hour AND the 24 hours before
-- it (history only: earlier consents, earlier risk), `summary_window` (the hour being built) and
-- `detection_thresholds` (defaults and sources in azlogs_pipeline/summarize/thresholds.py).
-- Only successful audit records count. A finding belongs to the hour of the audit record that
-- raises it, so rebuilding hours in any order reports it once.
--
-- Azure's shapes: the activity name is `activityDisplayName` (matched trimmed, case-insensitive,
-- an en dash read as a hyphen: Azure sends "Update application – Certificates and secrets
-- management " with an en dash and a trailing space); targets are `targetResources[]`; changed
-- values are `modifiedProperties[]` whose oldValue/newValue are JSON sent as text, sometimes a
-- JSON string around it (`json_text_value` unwraps one level).
--
--   ca_policy_weakened            high: a Conditional Access policy deleted, or updated from
--                                 state `enabled` to another state (disabled, report-only)
--   app_credential_added          a secret or certificate added to an application or service
--                                 principal (a KeyIdentifier in newValue absent from oldValue, or
--                                 "Add service principal credentials"); high when the same app
--                                 (by display name) got admin consent within
--                                 credential_after_consent_hours before, else medium
--   privileged_role_assigned      high: "Add member to role" for a role in privileged_roles, not
--                                 logged by PIM and not initiated by PIM (pim_initiators)
--   consent_to_risky_permissions  "Consent to application" whose granted scopes include one of
--                                 risky_consent_scopes; high for admin (tenant-wide) or app-only
--                                 consent, else medium
--   auth_method_changed_after_risk  high: a user's security info changed (auth_method_activities)
--                                 within auth_method_after_risk_hours after a medium or high risk
--                                 sign-in or risk detection of that user
WITH params AS (
    SELECT
        w.window_start, w.window_end, t.*,
        to_hours(t.credential_after_consent_hours) AS consent_reach,
        to_hours(t.auth_method_after_risk_hours) AS risk_reach
    FROM summary_window AS w, detection_thresholds AS t
),

audits AS (
    SELECT
        coalesce(a.id, a.record_id) AS audit_id,
        a.event_time,
        activity_key(a.activity_display_name) AS activity,
        a.activity_display_name AS activity_name,
        a.logged_by_service,
        a.initiated_by_user_id,
        a.initiated_by_upn,
        a.initiated_by_app_name,
        coalesce(a.initiated_by_upn, a.initiated_by_app_name, a.initiated_by_app_id) AS actor,
        a.initiated_by_ip,
        a.target_ids,
        a.target_names,
        a.target_types,
        a.target_upns,
        a.modified_properties
    FROM audit_logs AS a, params AS p
    WHERE a.result = 'success'
        AND a.event_time >= p.window_start - greatest(p.consent_reach, p.risk_reach)
        AND a.event_time < p.window_end
),
in_window AS (
    SELECT a.* FROM audits AS a, params AS p WHERE a.event_time >= p.window_start
),

-- Conditional Access policy weakened ----------------------------------------------------------
ca_changes AS (
    SELECT
        a.*,
        json_field(modified_property(a.modified_properties, 'ConditionalAccessPolicy').old_value,
                   '$.state') AS old_state,
        json_field(modified_property(a.modified_properties, 'ConditionalAccessPolicy').new_value,
                   '$.state') AS new_state
    FROM in_window AS a
    WHERE lower(a.logged_by_service) = 'conditional access'
        AND a.activity IN ('delete conditional access policy', 'update conditional access policy')
),
ca AS (
    SELECT
        'ca_policy_weakened' AS detection, 'high' AS severity,
        coalesce(c.target_names[1], c.target_ids[1]) AS entity, 'policy' AS entity_type,
        c.initiated_by_user_id AS user_id, c.event_time AS window_start, c.event_time AS window_end,
        1 AS records, c.initiated_by_ip AS ip,
        format('Conditional Access policy {} {} by {}', coalesce(c.target_names[1], c.target_ids[1]),
               CASE WHEN c.activity LIKE 'delete%' THEN 'deleted'
                    WHEN c.new_state = 'disabled' THEN 'disabled'
                    WHEN c.new_state = 'enabledForReportingButNotEnforced'
                        THEN 'switched to report-only'
                    ELSE 'changed from enabled to ' || coalesce(c.new_state, 'no state') END,
               coalesce(c.actor, 'unknown')) AS description,
        [c.audit_id] AS record_ids
    FROM ca_changes AS c
    WHERE c.activity LIKE 'delete%'
        OR (c.old_state = 'enabled' AND coalesce(c.new_state, '') <> 'enabled')
),

-- Application credential added ------------------------------------------------------------------
credential_changes AS (
    SELECT
        a.*,
        list_filter(a.target_names, lambda n, i: a.target_types[i] IN
                    ('Application', 'ServicePrincipal'))[1] AS app_name,
        list_distinct(regexp_extract_all(
            coalesce(json_text_value(modified_property(a.modified_properties, 'KeyDescription')
                                     .new_value), ''),
            'KeyIdentifier=([0-9A-Za-z-]+)', 1)) AS new_keys,
        list_distinct(regexp_extract_all(
            coalesce(json_text_value(modified_property(a.modified_properties, 'KeyDescription')
                                     .old_value), ''),
            'KeyIdentifier=([0-9A-Za-z-]+)', 1)) AS old_keys
    FROM in_window AS a
    WHERE a.activity IN ('update application - certificates and secrets management',
                         'add service principal credentials')
),
consents AS (
    SELECT
        a.*,
        lower(coalesce(a.target_names[1], '')) AS app_key,
        lower(coalesce(json_text_value(
            modified_property(a.modified_properties, 'ConsentContext.IsAdminConsent').new_value
        ), '')) = 'true' AS admin_consent,
        lower(coalesce(json_text_value(
            modified_property(a.modified_properties, 'ConsentContext.IsAppOnly').new_value
        ), '')) = 'true' AS app_only,
        list_distinct(flatten(list_transform(
            regexp_extract_all(
                coalesce(json_text_value(
                    modified_property(a.modified_properties, 'ConsentAction.Permissions').new_value
                ), ''),
                'Scope:\s*([^,\]]*)', 1),
            lambda s: list_filter(string_split_regex(trim(s), '\s+'), lambda x: x <> '')
        ))) AS scopes
    FROM audits AS a
    WHERE a.activity = 'consent to application'
),
credential_consents AS (
    -- the latest admin consent to the app within consent_reach before each credential change
    SELECT c.audit_id, c.event_time, max(k.event_time) AS consented_at
    FROM credential_changes AS c
    CROSS JOIN params AS p
    JOIN consents AS k
        ON k.admin_consent AND k.app_key = lower(c.app_name)
        AND k.event_time < c.event_time AND k.event_time > c.event_time - p.consent_reach
    GROUP BY c.audit_id, c.event_time
),
credentials AS (
    SELECT c.*, cc.consented_at
    FROM credential_changes AS c
    LEFT JOIN credential_consents AS cc
        ON cc.audit_id = c.audit_id AND cc.event_time = c.event_time
    WHERE c.activity = 'add service principal credentials'
        OR len(list_filter(c.new_keys, lambda k: NOT list_contains(c.old_keys, k))) > 0
),
credential AS (
    SELECT
        'app_credential_added' AS detection,
        CASE WHEN c.consented_at IS NOT NULL THEN 'high' ELSE 'medium' END AS severity,
        coalesce(c.app_name, c.target_ids[1]) AS entity, 'application' AS entity_type,
        c.initiated_by_user_id AS user_id, c.event_time AS window_start,
        c.event_time AS window_end, 1 AS records, c.initiated_by_ip AS ip,
        format('credential added to {} by {}{}', coalesce(c.app_name, c.target_ids[1]),
               coalesce(c.actor, 'unknown'),
               CASE WHEN c.consented_at IS NOT NULL
                    THEN ', admin consent ' || strftime(c.consented_at AT TIME ZONE 'UTC',
                                                        '%Y-%m-%d %H:%M') || ' UTC'
                    ELSE '' END) AS description,
        [c.audit_id] AS record_ids
    FROM credentials AS c
),

-- Privileged role assigned outside PIM ----------------------------------------------------------
role_adds AS (
    SELECT
        a.*,
        coalesce(
            list_filter(a.target_names, lambda n, i: a.target_types[i] = 'Role')[1],
            json_text_value(modified_property(a.modified_properties, 'Role.DisplayName').new_value)
        ) AS role_name,
        list_position(a.target_types, 'User') AS user_at
    FROM in_window AS a
    WHERE a.activity = 'add member to role'
),
roles AS (
    SELECT
        'privileged_role_assigned' AS detection, 'high' AS severity,
        coalesce(r.target_upns[r.user_at], r.target_names[1], r.target_ids[1]) AS entity,
        CASE WHEN r.user_at IS NOT NULL THEN 'user' ELSE 'principal' END AS entity_type,
        coalesce(r.target_ids[r.user_at], r.target_ids[1]) AS user_id,
        r.event_time AS window_start, r.event_time AS window_end, 1 AS records,
        r.initiated_by_ip AS ip,
        format('{} added to {} by {} outside PIM',
               coalesce(r.target_upns[r.user_at], r.target_names[1], r.target_ids[1]),
               r.role_name, coalesce(r.actor, 'unknown')) AS description,
        [r.audit_id] AS record_ids
    FROM role_adds AS r, params AS p
    WHERE list_contains(list_transform(p.privileged_roles, lambda x: lower(x)), lower(r.role_name))
        AND coalesce(lower(r.logged_by_service), '') <> 'pim'
        AND NOT list_contains(list_transform(p.pim_initiators, lambda x: lower(x)),
                              lower(coalesce(r.initiated_by_app_name, '')))
),

-- Consent to risky permissions ------------------------------------------------------------------
risky_consents AS (
    SELECT
        k.*,
        list_filter(k.scopes, lambda s: list_contains(
            list_transform(p.risky_consent_scopes, lambda x: lower(x)), lower(s))) AS risky
    FROM consents AS k, params AS p
    WHERE k.event_time >= p.window_start
),
consent AS (
    SELECT
        'consent_to_risky_permissions' AS detection,
        CASE WHEN k.admin_consent OR k.app_only THEN 'high' ELSE 'medium' END AS severity,
        coalesce(k.target_names[1], k.target_ids[1]) AS entity, 'application' AS entity_type,
        k.initiated_by_user_id AS user_id, k.event_time AS window_start,
        k.event_time AS window_end, 1 AS records, k.initiated_by_ip AS ip,
        format('{} consent to {} for {} by {}',
               CASE WHEN k.admin_consent OR k.app_only THEN 'admin' ELSE 'user' END,
               coalesce(k.target_names[1], k.target_ids[1]),
               array_to_string(list_sort(k.risky), ' '), coalesce(k.actor, 'unknown'))
            AS description,
        [k.audit_id] AS record_ids
    FROM risky_consents AS k
    WHERE len(k.risky) > 0
),

-- Security info changed after a risky sign-in or risk detection ---------------------------------
method_changes AS (
    SELECT
        a.*,
        list_position(a.target_types, 'User') AS user_at
    FROM in_window AS a, params AS p
    WHERE list_contains(list_transform(p.auth_method_activities, lambda x: activity_key(x)),
                        a.activity)
),
method_users AS (
    SELECT
        m.*,
        coalesce(m.target_ids[m.user_at], m.initiated_by_user_id) AS changed_id,
        lower(coalesce(m.target_upns[m.user_at], m.initiated_by_upn)) AS changed_upn
    FROM method_changes AS m
),
risk_signals AS (
    SELECT nullif(s.user_id, '') AS user_id, lower(s.user_principal_name) AS upn, s.event_time,
           coalesce(s.id, s.record_id) AS signal_id
    FROM signin_logs AS s
    WHERE is_risky_signin(s.risk_level_during_signin, s.risk_level_aggregated)
    UNION ALL
    SELECT nullif(r.user_id, ''), lower(r.user_principal_name), r.event_time,
           coalesce(r.id, r.record_id)
    FROM user_risk_events AS r
    WHERE lower(r.risk_level) IN ('medium', 'high')
),
method_evidence AS (
    SELECT m.audit_id, r.signal_id, r.event_time
    FROM method_users AS m
    CROSS JOIN params AS p
    JOIN risk_signals AS r
        ON (r.user_id = m.changed_id OR r.upn = m.changed_upn)
        AND r.event_time <= m.event_time
        AND r.event_time > m.event_time - p.risk_reach
),
method AS (
    SELECT
        'auth_method_changed_after_risk' AS detection, 'high' AS severity,
        coalesce(m.changed_upn, m.changed_id) AS entity, 'user' AS entity_type,
        m.changed_id AS user_id, min(e.event_time) AS window_start, m.event_time AS window_end,
        count(*) + 1 AS records, m.initiated_by_ip AS ip,
        format('{} ({}) {} h after {} risk signal(s)', trim(m.activity_name),
               coalesce(m.actor, 'unknown'),
               round((epoch(m.event_time) - epoch(max(e.event_time))) / 3600, 1), count(*))
            AS description,
        list(e.signal_id ORDER BY e.event_time, e.signal_id) || [m.audit_id] AS record_ids
    FROM method_users AS m
    JOIN method_evidence AS e USING (audit_id)
    GROUP BY m.audit_id, m.changed_upn, m.changed_id, m.event_time, m.initiated_by_ip,
             m.activity_name, m.actor
),

findings AS (
    SELECT * FROM ca
    UNION ALL BY NAME SELECT * FROM credential
    UNION ALL BY NAME SELECT * FROM roles
    UNION ALL BY NAME SELECT * FROM consent
    UNION ALL BY NAME SELECT * FROM method
)

SELECT * FROM detection_rows(findings)
