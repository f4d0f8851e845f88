-- signin_summary: sign-in counts per hour, sign-in type, app, country and result.
--
-- Input: `signin_logs` (the hour's sign-ins, one row per sign-in id) and `summary_window`.
-- One row per (hour, signin_type, app, country, result) that had sign-ins; NULL keys stay NULL
-- (e.g. workload sign-ins have no country), so sum(attempts) over an hour equals the rows of
-- signin_logs in that hour.
--
--   attempts                 sign-ins
--   successes / failures / interrupts
--                            by `result` (interrupts: 50140, 50058, 90025, expected steps)
--   distinct_users           users (object id, else UPN); workloads are not users
--   distinct_ips             source IP addresses
--   failures_by_error_code   MAP error code -> failures, e.g. failures_by_error_code[50126]
--   mfa_required             sign-ins that required multi-factor authentication
--   legacy_auth              sign-ins from a legacy client (IMAP4, POP3, SMTP, Other clients...)
--   ca_failures              Conditional Access failures (53003, 53000..53002, status failure)
--   risky_signins            medium or high risk (during the sign-in or aggregated)
WITH hour_signins AS (
    SELECT
        w.window_start AS hour,
        s.*,
        coalesce(s.app_display_name, s.app_id) AS app
    FROM signin_logs AS s, summary_window AS w
    WHERE s.event_time >= w.window_start AND s.event_time < w.window_end
)

SELECT
    hour,
    signin_type,
    app,
    location_country AS country,
    result,
    count(*) AS attempts,
    count(*) FILTER (WHERE result = 'success') AS successes,
    count(*) FILTER (WHERE result = 'failure') AS failures,
    count(*) FILTER (WHERE result = 'interrupted') AS interrupts,
    count(DISTINCT user_key(user_id, user_principal_name)) AS distinct_users,
    count(DISTINCT ip_address) AS distinct_ips,
    coalesce(
        histogram(error_code) FILTER (WHERE result = 'failure'),
        MAP {}::MAP(INTEGER, UBIGINT)
    )::MAP(INTEGER, BIGINT) AS failures_by_error_code,
    count(*) FILTER (WHERE authentication_requirement = 'multiFactorAuthentication')
        AS mfa_required,
    count(*) FILTER (WHERE is_legacy_client(client_app_used)) AS legacy_auth,
    count(*) FILTER (WHERE is_ca_failure(error_code, conditional_access_status)) AS ca_failures,
    count(*) FILTER (WHERE is_risky_signin(risk_level_during_signin, risk_level_aggregated))
        AS risky_signins
FROM hour_signins
GROUP BY hour, signin_type, app, location_country, result
