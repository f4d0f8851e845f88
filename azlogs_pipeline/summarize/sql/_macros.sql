-- Helpers shared by the summary queries, created on every summary connection (after the
-- normalization macros).

-- Legacy authentication: a client other than a modern browser or app (IMAP4, POP3, SMTP,
-- Authenticated SMTP, Exchange ActiveSync, Other clients, ...). Unknown (NULL/empty) is not legacy.
CREATE OR REPLACE MACRO is_legacy_client(client) AS
    coalesce(client, '') NOT IN ('', 'Browser', 'Mobile Apps and Desktop clients');

-- Conditional Access failure: blocked by a policy (53003), device not compliant / not joined or
-- app not approved (53000..53002), or Entra's own verdict `conditionalAccessStatus = failure`.
CREATE OR REPLACE MACRO is_ca_failure(error_code, ca_status) AS
    coalesce(error_code IN (53003, 53000, 53001, 53002), false)
    OR coalesce(lower(ca_status) = 'failure', false);

-- Risky sign-in: medium or high risk during the sign-in or aggregated.
CREATE OR REPLACE MACRO is_risky_signin(during_signin, aggregated) AS
    coalesce(lower(during_signin) IN ('medium', 'high'), false)
    OR coalesce(lower(aggregated) IN ('medium', 'high'), false);

-- One key per user: the object id when sent, else the lower-cased UPN (NULL for workloads).
CREATE OR REPLACE MACRO user_key(user_id, upn) AS
    coalesce(nullif(user_id, ''), nullif(lower(upn), ''));

-- Great-circle distance in km between two coordinates (haversine, mean Earth radius 6371 km).
CREATE OR REPLACE MACRO great_circle_km(lat1, lon1, lat2, lon2) AS
    2 * 6371.0 * asin(least(1.0, sqrt(
        pow(sin(radians(lat2 - lat1) / 2), 2)
        + cos(radians(lat1)) * cos(radians(lat2)) * pow(sin(radians(lon2 - lon1) / 2), 2)
    )));

-- An audit activity name as compared: trimmed, lower-cased, an en dash read as a hyphen (Azure
-- sends "Update application – Certificates and secrets management " with both).
CREATE OR REPLACE MACRO activity_key(name) AS
    lower(trim(replace(coalesce(name, ''), '–', '-')));

-- An audit oldValue/newValue as its JSON text: a JSON string around JSON ("\"True\"",
-- "\"{...}\"") is unwrapped once; anything else is returned as sent.
CREATE OR REPLACE MACRO json_text_value(v) AS
    CASE WHEN json_valid(v) AND json_type(v::JSON) = 'VARCHAR' THEN json_extract_string(v, '$')
         ELSE v END;

-- One field of a JSON value sent as text (unwrapped as above); NULL when it is not JSON.
CREATE OR REPLACE MACRO json_field(v, path) AS
    CASE WHEN json_valid(json_text_value(v)) THEN json_extract_string(json_text_value(v), path) END;

-- The first modified property named `name` of an audit record (NULL when there is none).
CREATE OR REPLACE MACRO modified_property(props, name) AS
    list_filter(coalesce(props, []), lambda m: m.display_name = name)[1];

-- An event (`t`, `id`) at or before the event (`end_t`, `end_id`) in event order (time, then id).
CREATE OR REPLACE MACRO at_or_before(t, id, end_t, end_id) AS
    t < end_t OR (t = end_t AND id <= end_id);

-- An event (`t`, `id`) in the window of `width` that ends at the event (`end_t`, `end_id`):
-- (end_t - width, end_t], the end's ties in time taken up to its id.
CREATE OR REPLACE MACRO in_window_ending_at(t, id, end_t, end_id, width) AS
    t > end_t - width AND at_or_before(t, id, end_t, end_id);

-- The detection rows of `findings` (a relation of findings with columns detection, severity,
-- entity, entity_type, user_id, window_start, window_end, records, ip (its one IP, or NULL),
-- description and record_ids), in the summary's column order: directory_detections and
-- feed_detections end with it. The detection id is the md5 of the detection, its entity, its
-- window and its last record id.
-- Use: `SELECT * FROM detection_rows(findings)`.
CREATE OR REPLACE MACRO detection_rows(findings) AS TABLE
    SELECT
        w.window_start AS hour,
        md5(concat_ws('|', f.detection, f.entity, epoch_us(f.window_start)::VARCHAR,
                      epoch_us(f.window_end)::VARCHAR, f.record_ids[-1])) AS detection_id,
        f.detection,
        f.severity,
        f.entity,
        f.entity_type,
        f.user_id,
        f.window_start,
        f.window_end,
        f.records::BIGINT AS records,
        CASE WHEN f.user_id IS NULL THEN 0 ELSE 1 END::BIGINT AS distinct_users,
        CASE WHEN f.ip IS NULL THEN 0 ELSE 1 END::BIGINT AS distinct_ips,
        0::BIGINT AS distinct_countries,
        []::VARCHAR[] AS countries,
        CASE WHEN f.ip IS NULL THEN []::VARCHAR[] ELSE [f.ip] END AS ip_addresses,
        f.description,
        f.record_ids
    FROM query_table(findings) AS f, summary_window AS w;
