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
