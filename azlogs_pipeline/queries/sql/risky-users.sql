-- title: Risky users now, by level and state; who became risky today
-- question: 11
-- params:
-- returns: risk_level, risk_state, users, became_risky_today
-- risky_users_current holds one picture per hour: take the latest. "Today" is the UTC day of
-- that picture (its as_of is the end of the hour it describes).
WITH now AS (SELECT max(as_of) AS as_of FROM risky_users_current)
SELECT
    risk_level,
    risk_state,
    count(*) AS users,
    list(user_principal_name ORDER BY risky_since) FILTER (
        WHERE risky_since >= date_trunc('day', now.as_of - INTERVAL 1 MICROSECOND)
    ) AS became_risky_today
FROM risky_users_current JOIN now USING (as_of)
WHERE is_risky
GROUP BY ALL
ORDER BY users DESC;
