-- Report: where sign-ins fail most (all hours): app, country and error code, by failures.
SELECT
    app,
    country,
    code.key AS error_code,
    sum(code.value) AS failures
FROM (
    SELECT app, country, unnest(map_entries(failures_by_error_code)) AS code
    FROM signin_summary
)
GROUP BY ALL
ORDER BY failures DESC, app, country, error_code
LIMIT $limit
