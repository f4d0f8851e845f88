-- One input view of a ranged summary query (summarize/inputs.py): the rows of the partition's
-- own files, the run [low, high) of the range table's files.
{view} AS (
    SELECT range_rows.* EXCLUDE (_azlogs_file_index)
    FROM {table} AS range_rows
    WHERE range_rows._azlogs_file_index >= w._low_{position}
        AND range_rows._azlogs_file_index < w._high_{position}
)
