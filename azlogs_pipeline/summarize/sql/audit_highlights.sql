-- audit_highlights: the directory changes an analyst reviews every day, one row per change.
--
-- Read window: this hour of `audit_logs` plus a 24-hour lookback (only used to find when a user
-- deleted in this hour was created). Each change is reported in the hour it happened, so a
-- change appears once however often hours are rebuilt. Only successful operations count.
--
-- highlight:
--   privileged_role_assignment  a user or app added to a high-privilege built-in role (the list
--                               below: Microsoft's roles that control tenant, identities, security
--                               or credentials), directly or as eligible/active through PIM.
--                               Every role change, privileged or not, is in audit_logs.
--   created_then_deleted        a user deleted at most 24 hours after being created (reported at
--                               the deletion; created_time says when it was created)
--   guest_to_member             a user's UserType changed from Guest to Member
--   app_credential_change       a secret or certificate added, removed or changed on an
--                               application or service principal
-- Columns: highlight, event_time, activity, actor (initiator's UPN, else app name), actor_ip,
-- target_id, target_name, target_upn, detail (role name, type change, key description, lifetime),
-- created_time (created_then_deleted only), audit_id, correlation_id, record_id.
WITH privileged_roles(role_name, template_id) AS (
    VALUES
        ('Global Administrator', '62e90394-69f5-4237-9190-012177145e10'),
        ('Privileged Role Administrator', 'e8611ab8-c189-46e8-94e1-60213ab1f814'),
        ('Privileged Authentication Administrator', '7be44c8a-adaf-4e2a-84d6-ab2649e08a13'),
        ('Security Administrator', '194ae4cb-b126-40b2-bd5b-6091b380977d'),
        ('User Administrator', 'fe930be7-5e62-47db-91af-98c3a49a38b1'),
        ('Application Administrator', '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3'),
        ('Cloud Application Administrator', '158c047a-c907-4556-b7ef-446551a6b5f7'),
        ('Authentication Administrator', 'c4e39bd9-1100-46d3-8c65-fb160da0071f'),
        ('Helpdesk Administrator', '729827e3-9c14-49f7-bb1b-9608f156bbb8'),
        ('Password Administrator', '966707d0-3269-4727-9be2-8c3a10f19b9d'),
        ('Exchange Administrator', '29232cdf-9323-42fd-ade2-1d097af3e4de'),
        ('SharePoint Administrator', 'f28a1f50-f6e7-4571-818b-6a12f2af6b6c'),
        ('Conditional Access Administrator', 'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9'),
        ('Hybrid Identity Administrator', '8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2'),
        ('Intune Administrator', '3a2c62db-5318-420d-8d74-23affee5d9d5'),
        ('Partner Tier2 Support', 'e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8')
),
privileged AS (
    SELECT list(lower(role_name)) AS role_names, list(lower(template_id)) AS template_ids
    FROM privileged_roles
),

changes AS (
    -- Successful operations, with the first user target (or else the first target) picked out
    -- and the role named by the record (Role target, else the Role.* modified properties).
    SELECT
        a.*,
        coalesce(list_position(a.target_types, 'User'), 1) AS t,
        coalesce(
            list_filter(a.target_names, lambda n, i: a.target_types[i] = 'Role')[1],
            trim(list_filter(a.modified_properties,
                             lambda m: m.display_name = 'Role.DisplayName')[1].new_value, '"')
        ) AS role_name,
        coalesce(
            list_filter(a.target_ids, lambda n, i: a.target_types[i] = 'Role')[1],
            trim(list_filter(a.modified_properties,
                             lambda m: m.display_name = 'Role.TemplateId')[1].new_value, '"')
        ) AS role_template_id,
        coalesce(a.initiated_by_upn, a.initiated_by_app_name) AS actor
    FROM audit_logs AS a
    WHERE a.result = 'success'
),

in_window AS (
    SELECT c.*
    FROM changes AS c, summary_window AS w
    WHERE c.event_time >= w.window_start AND c.event_time < w.window_end
),

role_assignments AS (
    SELECT
        'privileged_role_assignment' AS highlight,
        c.*,
        c.role_name AS detail,
        NULL::TIMESTAMPTZ AS created_time
    FROM in_window AS c, privileged AS p
    WHERE c.activity_display_name ILIKE 'Add%member to role%'
      AND (list_contains(p.role_names, lower(c.role_name))
           OR list_contains(p.template_ids, lower(c.role_template_id)))
),

created AS (
    SELECT c.target_ids[c.t] AS user_id, c.event_time AS created_time, c.record_id
    FROM changes AS c
    WHERE c.activity_display_name IN ('Add user', 'Invite external user')
      AND c.target_ids[c.t] IS NOT NULL
),

created_then_deleted AS (
    -- The latest creation at or before the deletion, at most 24 hours before it.
    SELECT
        'created_then_deleted' AS highlight,
        d.*,
        'lived ' || CAST(floor((epoch(d.event_time) - epoch(k.created_time)) / 60) AS BIGINT)
            || ' min' AS detail,
        k.created_time
    FROM in_window AS d
    JOIN created AS k
      ON k.user_id = d.target_ids[d.t]
     AND k.created_time <= d.event_time
     AND d.event_time - k.created_time <= INTERVAL 24 HOUR
    WHERE d.activity_display_name IN ('Delete user', 'Hard delete user')
    QUALIFY row_number() OVER (
        PARTITION BY d.record_id ORDER BY k.created_time DESC, k.record_id DESC
    ) = 1
),

guest_to_member AS (
    SELECT
        'guest_to_member' AS highlight,
        c.*,
        'UserType Guest -> Member' AS detail,
        NULL::TIMESTAMPTZ AS created_time
    FROM in_window AS c
    WHERE len(list_filter(c.modified_properties, lambda m:
              m.display_name = 'UserType'
              AND m.old_value ILIKE '%guest%' AND m.new_value ILIKE '%member%')) > 0
),

credential_changes AS (
    SELECT
        'app_credential_change' AS highlight,
        c.*,
        coalesce(
            list_filter(c.modified_properties, lambda m: m.display_name = 'KeyDescription')[1]
                .new_value,
            c.activity_display_name
        ) AS detail,
        NULL::TIMESTAMPTZ AS created_time
    FROM in_window AS c
    WHERE c.activity_display_name ILIKE '%certificates and secrets management%'
       OR c.activity_display_name ILIKE '%service principal credentials%'
       OR len(list_filter(c.modified_properties,
                          lambda m: m.display_name = 'KeyDescription')) > 0
),

highlights AS (
    SELECT * FROM role_assignments
    UNION ALL BY NAME
    SELECT * FROM created_then_deleted
    UNION ALL BY NAME
    SELECT * FROM guest_to_member
    UNION ALL BY NAME
    SELECT * FROM credential_changes
)

SELECT
    highlight,
    event_time,
    activity_display_name AS activity,
    actor,
    initiated_by_ip AS actor_ip,
    target_ids[t] AS target_id,
    target_names[t] AS target_name,
    target_upns[t] AS target_upn,
    detail,
    created_time,
    id AS audit_id,
    correlation_id,
    record_id
FROM highlights
ORDER BY event_time, highlight, record_id
