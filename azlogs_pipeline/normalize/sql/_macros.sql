-- Helpers shared by the table queries, created on every normalization connection.

-- An Entra time text to a UTC instant: with a zone (Z or an offset) it is an instant; without one
-- it is UTC; US-locale `M/D/YYYY h:mm:ss [AM|PM] [offset]` is accepted too. Unparseable is NULL.
CREATE OR REPLACE MACRO entra_time_text(t) AS
    CASE
        WHEN regexp_matches(t, '(?i)(z|[+-]\d{2}:?\d{2})$')
            THEN coalesce(
                TRY_CAST(t AS TIMESTAMPTZ),
                try_strptime(t, '%m/%d/%Y %I:%M:%S %p %z')
            )
        ELSE timezone('UTC', coalesce(
            TRY_CAST(t AS TIMESTAMP),
            try_strptime(t, ['%m/%d/%Y %I:%M:%S %p', '%m/%d/%Y %H:%M:%S'])
        ))
    END;

-- The record with `properties` decoded when it arrived as a JSON-encoded string (rare path).
CREATE OR REPLACE MACRO with_decoded_properties(record) AS
    CASE
        WHEN contains(record, 'properties":"')
            AND json_valid(json_extract_string(record, '$.properties'))
            THEN json_merge_patch(record, json_object(
                'properties', json(json_extract_string(record, '$.properties'))
            ))
        ELSE record
    END;

-- The record parsed ONCE into `structure` (a json_transform structure literal); a record whose
-- `properties` arrived as a JSON-encoded string (rare) is decoded first. Choosing the branch on the
-- record text keeps the common path a plain json_transform of the stored column, which is much
-- faster than parsing the result of a CASE over the text.
CREATE OR REPLACE MACRO parse_record(record, structure) AS
    CASE
        WHEN contains(record, 'properties":"')
            THEN json_transform(with_decoded_properties(record), structure)
        ELSE json_transform(record, structure)
    END;

-- The rows of `raw` (a relation such as `raw_hour`) with exact duplicates collapsed: publishing
-- retries and re-drains land the same record (same record_id) more than once, and the first landed
-- copy wins (lowest sequence_number, then eventhub, partition_id, record_index).
-- Use: `FROM first_landed_copies(raw_hour) AS r`.
CREATE OR REPLACE MACRO first_landed_copies(raw) AS TABLE
    SELECT *
    FROM query_table(raw)
    QUALIFY row_number() OVER (
        PARTITION BY record_id
        ORDER BY sequence_number, eventhub, partition_id, record_index
    ) = 1;

-- True when the record may have a top-level key starting with a capital letter (the Log-Analytics
-- shape: `Id`, `IPAddress`, `Level`, ...), so that the second json_transform reading those keys
-- runs only on records that may have them. The raw lake stores every record as canonical JSON
-- (keys sorted by code point at every depth, no whitespace: see ingest/records.py), where such a
-- key sorts before every lowercase one: the first key tells. A record text not starting with `{"`
-- is always parsed. DuckDB struct field names ignore case, so camelCase and PascalCase twins
-- (`correlationId` / `CorrelationId`) cannot share one json_transform structure.
CREATE OR REPLACE MACRO may_have_pascal_keys(record) AS
    NOT starts_with(record, '{"') OR substr(record, 3, 1) < 'a';

-- An instant outside 1970..2999 (such as the 0001-01-01 "unset" sentinel) means unknown: NULL.
CREATE OR REPLACE MACRO plausible_instant(ts) AS
    CASE WHEN epoch_us(ts) BETWEEN 0 AND 32503680000000000 THEN ts END;

-- An Entra time text (trimmed; empty is NULL) to a plausible UTC instant, else NULL.
CREATE OR REPLACE MACRO entra_time(t) AS
    plausible_instant(entra_time_text(nullif(trim(t), '')));

-- An IP address text, trimmed, as sent (IPv4, IPv6, CIDR, redacted `.XXX`); the "no address"
-- placeholders '', '<null>', '&lt;null&gt;' and 'null' (any casing) are NULL.
CREATE OR REPLACE MACRO ip_address_text(t) AS
    CASE
        WHEN lower(trim(t)) IN ('', '<null>', '&lt;null&gt;', 'null') THEN NULL
        ELSE trim(t)
    END;

-- A JSON text (an object, an array, or JSON sent inside a string) as JSON; invalid is NULL.
CREATE OR REPLACE MACRO json_or_null(t) AS
    CASE WHEN json_valid(t) THEN json(t) END;

-- A location sent as JSON text (the Log-Analytics `Location` column) as a struct
-- {countryOrRegion, city, state} of VARCHAR; NULL when the text is not JSON.
CREATE OR REPLACE MACRO location_from_json_text(t) AS
    CASE
        WHEN json_valid(t) THEN json_transform(
            t, '{"countryOrRegion": "VARCHAR", "city": "VARCHAR", "state": "VARCHAR"}'
        )
    END;

-- Like parse_record, for records needing another repair: `record` parsed ONCE into `structure`,
-- except when `needs_repair` (a cheap test on the text), where `repaired` (an expression giving
-- the repaired record text, evaluated only then) is parsed instead.
CREATE OR REPLACE MACRO parse_record_repaired(record, needs_repair, repaired, structure) AS
    CASE
        WHEN needs_repair THEN json_transform(repaired, structure)
        ELSE json_transform(record, structure)
    END;

-- The Activity-log record with `properties` and `identity` decoded when they arrived as
-- JSON-encoded strings (an `identity` string is decoded only when it holds a JSON object; a plain
-- string names the caller and stays as sent). The raw lake's record text is canonical JSON (no
-- whitespace), so the `"key":"` tests find every string-valued key.
CREATE OR REPLACE MACRO with_decoded_properties_and_identity(record) AS
    CASE
        WHEN contains(record, '"properties":"') OR contains(record, '"identity":"')
            THEN json_merge_patch(
                record,
                CASE
                    WHEN contains(record, '"properties":"')
                        AND json_valid(json_extract_string(record, '$.properties'))
                        THEN json_object(
                            'properties', json(json_extract_string(record, '$.properties'))
                        )
                    ELSE json_object()
                END,
                CASE
                    WHEN contains(record, '"identity":"')
                        AND json_valid(json_extract_string(record, '$.identity'))
                        AND starts_with(ltrim(json_extract_string(record, '$.identity')), '{')
                        THEN json_object(
                            'identity', json(json_extract_string(record, '$.identity'))
                        )
                    ELSE json_object()
                END
            )
        ELSE record
    END;

-- The first landed copies of `raw` (a relation such as `raw_hour`) with the record parsed ONCE
-- into each of its two shapes: `j`, the diagnostic-setting shape (`camel`, a json_transform
-- structure, read with parse_record) and `p`, its `properties`; `lp`, the Log-Analytics shape
-- (`pascal`), parsed only for records that may have PascalCase keys (NULL otherwise).
-- Use: `FROM record_shapes(raw_hour, '{...camelCase structure...}', '{...PascalCase...}')`.
CREATE OR REPLACE MACRO record_shapes(raw, camel, pascal) AS TABLE
    SELECT *, j.properties AS p
    FROM (
        SELECT
            r.*,
            parse_record(r.record, camel) AS j,
            CASE WHEN may_have_pascal_keys(r.record) THEN json_transform(r.record, pascal) END AS lp
        FROM first_landed_copies(raw) AS r
    );

-- The first landed copies of `raw` (a relation such as `raw_hour`; the raw-lake columns but the
-- record text) with the record parsed ONCE into `structure` (a json_transform structure, read
-- with parse_record): `j`, and `p`, its `properties`. For the tables of one record shape.
-- Use: `FROM properties_shape(raw_hour, '{...structure...}')`.
CREATE OR REPLACE MACRO properties_shape(raw, structure) AS TABLE
    SELECT *, j.properties AS p
    FROM (
        SELECT
            r.record_id, r.event_time, r.category, r.tenant_id,
            r.eventhub, r.partition_id, r.sequence_number, r.enqueued_time, r.record_index,
            parse_record(r.record, structure) AS j
        FROM first_landed_copies(raw) AS r
    );
