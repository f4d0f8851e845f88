-- Dead-lettered events per reason (the reason's first clause), with their bytes.
SELECT
    split_part(reason, ':', 1) AS reason,
    count(*) AS events,
    sum(body_size) AS bytes
FROM read_parquet($deadletter_glob, union_by_name = true)
GROUP BY 1
ORDER BY events DESC, reason
