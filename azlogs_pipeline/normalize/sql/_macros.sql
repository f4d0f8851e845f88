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
