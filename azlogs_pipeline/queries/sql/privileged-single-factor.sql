-- title: Single-factor successful sign-ins of privileged users; cross-tenant sign-ins
-- question: 13
-- params: since, user
-- returns: finding, event_time, user_principal_name, app_display_name, ip_address, authentication_requirement, cross_tenant_access_type, home_tenant_id, resource_tenant_id
-- The logs carry no role membership: users given a privileged role (audit_highlights) or who
-- made directory changes themselves (audit_logs) count as privileged here. If you keep a list of
-- your administrators, join it instead.
WITH privileged_users AS (
    SELECT target_id AS user_id
    FROM audit_highlights
    WHERE highlight = 'privileged_role_assignment'
    UNION
    SELECT initiated_by_user_id FROM audit_logs
)
SELECT
    CASE WHEN home_tenant_id <> resource_tenant_id THEN 'cross_tenant'
         ELSE 'single_factor_privileged' END AS finding,
    event_time, user_principal_name, app_display_name, ip_address, authentication_requirement,
    cross_tenant_access_type, home_tenant_id, resource_tenant_id
FROM signin_logs
WHERE result = 'success'
  AND (home_tenant_id <> resource_tenant_id
       OR (signin_type = 'interactive'
           AND authentication_requirement = 'singleFactorAuthentication'
           AND user_id IN (SELECT user_id FROM privileged_users)))
  AND ($since IS NULL OR event_time >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(user_principal_name), lower(user_id)))
ORDER BY finding DESC, event_time DESC;
