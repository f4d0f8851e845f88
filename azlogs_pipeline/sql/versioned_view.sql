-- A view over a blob lake area whose partitions are versioned (lake/paths.py): per directory it
-- reads one version, the newest that is older than the settle time, else the oldest there is.
-- read_parquet lists the area when the query is bound and glob() lists it again when it runs; a
-- version younger than the settle time may be in the second listing and not the first, so it is
-- not chosen yet (readers see the previous build until then). Superseded versions stay for
-- minutes (lake/parquet.py), so the chosen one is still there when it is read.
-- Placeholders are filled by azlogs_pipeline/catalog.py with quoted identifiers and literals from the code.
CREATE OR REPLACE VIEW {name} AS
SELECT * EXCLUDE (azlogs_file)
FROM read_parquet({glob}, filename = 'azlogs_file')
WHERE azlogs_file IN (
    SELECT coalesce(
        max(listed.file) FILTER (
            WHERE regexp_extract(listed.file, 'part-([0-9]{{16}})-[0-9a-f]{{12}}[.]parquet$', 1)
                <= settle.cutoff
        ),
        min(listed.file)
    )
    FROM glob({glob}) AS listed,
        (SELECT lpad(CAST(epoch_us(now()) - {settle_us} AS VARCHAR), 16, '0') AS cutoff) AS settle
    GROUP BY regexp_replace(listed.file, '/[^/]*$', '')
)
