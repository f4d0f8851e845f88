-- title: MFA denied or fraud reported; MFA fatigue (10+ denials then a success within minutes)
-- question: 7
-- params: since, user
-- returns: user_principal_name, denials, fraud_reports, first_denial, last_denial, reasons, mfa_fatigue
-- 500121: authentication failed during strong authentication; the reason (denied, no answer,
-- fraud reported) is in additional_details. mfa_fatigue: the detection found the burst.
SELECT
    user_principal_name,
    count(*) AS denials,
    count(*) FILTER (WHERE additional_details ILIKE '%fraud%') AS fraud_reports,
    min(event_time) AS first_denial,
    max(event_time) AS last_denial,
    list_sort(list_distinct(list(additional_details))) AS reasons,
    lower(user_principal_name) IN (
        SELECT entity FROM signin_detections
        WHERE detection = 'mfa_fatigue' AND ($since IS NULL OR window_end >= $since)
    ) AS mfa_fatigue
FROM signin_logs
WHERE error_code = 500121
  AND ($since IS NULL OR event_time >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(user_principal_name), lower(user_id)))
GROUP BY user_principal_name
ORDER BY mfa_fatigue DESC, denials DESC;
