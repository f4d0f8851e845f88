-- Report: sign-in totals over every hour of `signin_summary` (catalog view).
SELECT
    count(DISTINCT hour) AS hours,
    sum(attempts) AS attempts,
    sum(successes) AS successes,
    sum(failures) AS failures,
    sum(interrupts) AS interrupts,
    sum(mfa_required) AS mfa_required,
    sum(legacy_auth) AS legacy_auth,
    sum(ca_failures) AS ca_failures,
    sum(risky_signins) AS risky_signins
FROM signin_summary
