-- The rows of the input files of a range of summary partitions, each with the index of its file
-- (summarize/inputs.py: a partition's view is the rows of one contiguous run of files).
SELECT
    range_rows.* EXCLUDE (filename),
    range_files.file_index AS _azlogs_file_index
FROM _range_rows AS range_rows
JOIN _range_files AS range_files USING (filename)
