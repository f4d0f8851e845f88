-- signin_detections: suspicious sign-in patterns, one row per finding.
--
-- Input: `signin_logs` of the hour AND the 14 days before it (history only), `summary_window`
-- (the hour being built) and `detection_thresholds` (one row; defaults and their sources in
-- azlogs_pipeline/summarize/thresholds.py). Each detection reads only the history its rule needs.
--
-- A finding belongs to the hour of the sign-in that makes its rule true (the trigger), so it is
-- reported by exactly one hour however often or in whatever order hours are rebuilt; the
-- evidence is what the rule saw up to and including the trigger. Users are keyed by object id
-- (else lower-cased UPN); workload sign-ins (no user) only count for password spray by IP.
--
--   password_spray           one IP fails (spray_error_codes) for >= spray_min_users distinct
--                            users within spray_window_minutes; raised when the count first
--                            reaches the threshold (again only after a window without it)
--   distributed_brute_force  one user has >= brute_force_min_failures failures from
--                            >= brute_force_min_locations (IP, country) pairs in one UTC day;
--                            raised once per user and day, at the failure that crosses both
--   new_country              a success from a country absent from the user's successes of the
--                            previous new_country_history_days (the user has such successes)
--   impossible_travel        two consecutive successes (with coordinates) of one user at least
--                            impossible_travel_min_km apart, faster than
--                            impossible_travel_speed_kmh (great-circle distance / elapsed time)
--   mfa_fatigue              >= mfa_fatigue_min_denials MFA denials (500121) within
--                            mfa_fatigue_window_minutes, then the first success, within
--                            mfa_fatigue_success_within_minutes of the last denial
--   legacy_auth_success      a success from a legacy client (IMAP4, POP3, SMTP, Other clients,
--                            ...), once per episode: again only after legacy_auth_quiet_hours
--                            without one
--
-- Columns: hour (partition), detection_id (md5 of detection, entity key and window: stable),
-- detection, severity, entity, entity_type ('user' | 'ip'), user_id, window_start / window_end
-- (first evidence / trigger), evidence counts (signins, failures, successes, distinct_users,
-- distinct_ips, distinct_countries), countries, ip_addresses, distance_km and speed_kmh
-- (impossible travel), description, signin_ids (evidence, in time order).
WITH params AS (
    SELECT
        w.window_start, w.window_end, t.*,
        to_minutes(t.spray_window_minutes) AS spray_window,
        to_days(t.new_country_history_days) AS history,
        to_minutes(t.mfa_fatigue_window_minutes) AS mfa_window,
        to_minutes(t.mfa_fatigue_success_within_minutes) AS mfa_within,
        to_hours(t.legacy_auth_quiet_hours) AS legacy_quiet,
        -- no pair farther apart in time than this can exceed the speed threshold
        to_microseconds(CAST(ceil(20037.5 / t.impossible_travel_speed_kmh * 3600e6) AS BIGINT))
            AS travel_reach
    FROM summary_window AS w, detection_thresholds AS t
),

signins AS (
    SELECT
        coalesce(s.id, s.record_id) AS signin_id,
        s.event_time,
        user_key(s.user_id, s.user_principal_name) AS user_key,
        nullif(s.user_id, '') AS user_id,
        CASE WHEN contains(s.user_principal_name, '@') THEN lower(s.user_principal_name) END
            AS upn,
        s.ip_address,
        s.location_country AS country,
        s.latitude,
        s.longitude,
        s.result,
        s.error_code,
        s.client_app_used
    FROM signin_logs AS s
),

-- Password spray --------------------------------------------------------------------------------
spray_failures AS (
    SELECT s.*
    FROM signins AS s, params AS p
    WHERE s.result = 'failure' AND s.ip_address IS NOT NULL
        AND list_contains(p.spray_error_codes, s.error_code)
        AND s.event_time >= p.window_start - 2 * p.spray_window
        AND s.event_time < p.window_end
),
spray_points AS (
    -- each failure with the distinct users its IP failed for in the window ending at it
    SELECT f.ip_address, f.event_time, f.signin_id, count(DISTINCT g.user_key) AS users
    FROM spray_failures AS f
    CROSS JOIN params AS p
    JOIN spray_failures AS g
        ON g.ip_address = f.ip_address
        AND in_window_ending_at(g.event_time, g.signin_id, f.event_time, f.signin_id,
                                p.spray_window)
    GROUP BY ALL
),
spray_triggers AS (
    SELECT q.*
    FROM (
        SELECT
            sp.*,
            sp.users >= p.spray_min_users AS hit,
            max(CASE WHEN sp.users >= p.spray_min_users THEN sp.event_time END) OVER (
                PARTITION BY sp.ip_address ORDER BY sp.event_time, sp.signin_id
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) AS last_hit
        FROM spray_points AS sp, params AS p
    ) AS q, params AS p
    WHERE q.hit AND (q.last_hit IS NULL OR q.last_hit <= q.event_time - p.spray_window)
        AND q.event_time >= p.window_start AND q.event_time < p.window_end
),
spray AS (
    SELECT
        'password_spray' AS detection, tr.ip_address AS entity, 'ip' AS entity_type,
        tr.ip_address AS entity_key, NULL::VARCHAR AS user_id, tr.event_time AS trigger_time,
        NULL::DOUBLE AS distance_km, NULL::DOUBLE AS speed_kmh, NULL::VARCHAR AS note,
        g.signin_id, g.event_time
    FROM spray_triggers AS tr
    CROSS JOIN params AS p
    JOIN spray_failures AS g
        ON g.ip_address = tr.ip_address
        AND in_window_ending_at(g.event_time, g.signin_id, tr.event_time, tr.signin_id,
                                p.spray_window)
),

-- Distributed brute force ----------------------------------------------------------------------
brute_failures AS (
    SELECT
        s.*,
        time_bucket(INTERVAL 1 DAY, s.event_time) AS day,
        coalesce(s.ip_address, '?') || '|' || coalesce(s.country, '?') AS location
    FROM signins AS s, params AS p
    WHERE s.result = 'failure' AND s.user_key IS NOT NULL
        AND s.event_time >= time_bucket(INTERVAL 1 DAY, p.window_start)
        AND s.event_time < p.window_end
),
brute_running AS (
    SELECT
        *,
        count(*) OVER day_so_far AS failures_so_far,
        sum(first_at_location) OVER day_so_far AS locations_so_far
    FROM (
        SELECT
            *,
            CASE WHEN row_number() OVER (
                PARTITION BY user_key, day, location ORDER BY event_time, signin_id
            ) = 1 THEN 1 ELSE 0 END AS first_at_location
        FROM brute_failures
    )
    WINDOW day_so_far AS (
        PARTITION BY user_key, day ORDER BY event_time, signin_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
brute_hits AS (
    SELECT
        b.*,
        b.failures_so_far >= p.brute_force_min_failures
            AND b.locations_so_far >= p.brute_force_min_locations AS hit
    FROM brute_running AS b, params AS p
),
brute_triggers AS (
    -- both counts only grow during a day: the trigger is the first failure where both hold
    SELECT h.*
    FROM (
        SELECT
            *,
            lag(hit, 1, false) OVER (
                PARTITION BY user_key, day ORDER BY event_time, signin_id
            ) AS hit_before
        FROM brute_hits
    ) AS h, params AS p
    WHERE h.hit AND NOT h.hit_before
        AND h.event_time >= p.window_start AND h.event_time < p.window_end
),
brute AS (
    SELECT
        'distributed_brute_force' AS detection, coalesce(tr.upn, tr.user_key) AS entity,
        'user' AS entity_type, tr.user_key AS entity_key, tr.user_id,
        tr.event_time AS trigger_time, NULL::DOUBLE AS distance_km, NULL::DOUBLE AS speed_kmh,
        NULL::VARCHAR AS note, g.signin_id, g.event_time
    FROM brute_triggers AS tr
    JOIN brute_failures AS g
        ON g.user_key = tr.user_key AND g.day = tr.day
        AND at_or_before(g.event_time, g.signin_id, tr.event_time, tr.signin_id)
),

-- New country -----------------------------------------------------------------------------------
country_successes AS (
    SELECT
        s.*,
        lag(s.event_time) OVER (
            PARTITION BY s.user_key, s.country ORDER BY s.event_time, s.signin_id
        ) AS previous_same_country,
        lag(s.event_time) OVER (
            PARTITION BY s.user_key ORDER BY s.event_time, s.signin_id
        ) AS previous_any
    FROM signins AS s, params AS p
    WHERE s.result = 'success' AND s.user_key IS NOT NULL AND s.country IS NOT NULL
        AND s.event_time >= p.window_start - p.history AND s.event_time < p.window_end
),
new_country_triggers AS (
    SELECT c.*
    FROM country_successes AS c, params AS p
    WHERE c.event_time >= p.window_start AND c.event_time < p.window_end
        AND c.previous_any >= c.event_time - p.history
        AND (c.previous_same_country IS NULL
             OR c.previous_same_country < c.event_time - p.history)
),
new_country_known AS (
    -- the countries the user succeeded from in the history period, for the description
    SELECT
        tr.signin_id,
        string_agg(DISTINCT h.country, ', ' ORDER BY h.country) AS known
    FROM new_country_triggers AS tr
    CROSS JOIN params AS p
    JOIN country_successes AS h
        ON h.user_key = tr.user_key
        AND h.event_time >= tr.event_time - p.history
        AND h.event_time <= tr.event_time AND h.signin_id <> tr.signin_id
    GROUP BY ALL
),
new_country AS (
    SELECT
        'new_country' AS detection, coalesce(tr.upn, tr.user_key) AS entity,
        'user' AS entity_type, tr.user_key AS entity_key, tr.user_id,
        tr.event_time AS trigger_time, NULL::DOUBLE AS distance_km, NULL::DOUBLE AS speed_kmh,
        'new country ' || tr.country || ', known: ' || coalesce(k.known, '-') AS note,
        tr.signin_id, tr.event_time
    FROM new_country_triggers AS tr
    LEFT JOIN new_country_known AS k USING (signin_id)
),

-- Impossible travel -----------------------------------------------------------------------------
travel_pairs AS (
    SELECT
        s.*,
        lag(s.signin_id) OVER user_order AS previous_id,
        lag(s.event_time) OVER user_order AS previous_time,
        lag(s.latitude) OVER user_order AS previous_latitude,
        lag(s.longitude) OVER user_order AS previous_longitude
    FROM signins AS s, params AS p
    WHERE s.result = 'success' AND s.user_key IS NOT NULL
        AND s.latitude IS NOT NULL AND s.longitude IS NOT NULL
        AND s.event_time >= p.window_start - p.travel_reach AND s.event_time < p.window_end
    WINDOW user_order AS (PARTITION BY s.user_key ORDER BY s.event_time, s.signin_id)
),
travel_triggers AS (
    SELECT
        q.*,
        q.km / nullif(q.hours, 0) AS kmh
    FROM (
        SELECT
            t.*,
            great_circle_km(t.previous_latitude, t.previous_longitude, t.latitude, t.longitude)
                AS km,
            (epoch_us(t.event_time) - epoch_us(t.previous_time)) / 3600e6 AS hours
        FROM travel_pairs AS t
        WHERE t.previous_id IS NOT NULL
    ) AS q, params AS p
    WHERE q.event_time >= p.window_start AND q.event_time < p.window_end
        AND q.km >= p.impossible_travel_min_km
        AND q.km > p.impossible_travel_speed_kmh * q.hours
),
travel AS (
    SELECT
        'impossible_travel' AS detection, coalesce(tr.upn, tr.user_key) AS entity,
        'user' AS entity_type, tr.user_key AS entity_key, tr.user_id,
        tr.event_time AS trigger_time, round(tr.km, 1) AS distance_km,
        round(tr.kmh, 1) AS speed_kmh, NULL::VARCHAR AS note,
        -- the evidence: the previous success (side 0), then the trigger (side 1)
        CASE WHEN side.n = 0 THEN tr.previous_id ELSE tr.signin_id END AS signin_id,
        CASE WHEN side.n = 0 THEN tr.previous_time ELSE tr.event_time END AS event_time
    FROM travel_triggers AS tr, (VALUES (0), (1)) AS side(n)
),

-- MFA fatigue -----------------------------------------------------------------------------------
mfa_events AS (
    SELECT
        s.*,
        s.result = 'failure' AND s.error_code = 500121 AS denial,
        max(CASE WHEN s.result = 'failure' AND s.error_code = 500121 THEN s.event_time END)
            OVER before_it AS last_denial,
        max(CASE WHEN s.result = 'failure' AND s.error_code = 500121
                 THEN row_number_in_user END) OVER before_it AS last_denial_n,
        max(CASE WHEN s.result = 'success' THEN row_number_in_user END)
            OVER before_it AS last_success_n
    FROM (
        SELECT
            s.*,
            row_number() OVER (PARTITION BY s.user_key ORDER BY s.event_time, s.signin_id)
                AS row_number_in_user
        FROM signins AS s, params AS p
        WHERE s.user_key IS NOT NULL AND s.result IN ('success', 'failure')
            AND s.event_time >= p.window_start - greatest(p.mfa_window, p.mfa_within)
            AND s.event_time < p.window_end
    ) AS s
    WINDOW before_it AS (
        PARTITION BY s.user_key ORDER BY s.row_number_in_user
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    )
),
mfa_candidates AS (
    -- the first success after a denial, within minutes of it
    SELECT m.*
    FROM mfa_events AS m, params AS p
    WHERE m.result = 'success'
        AND m.event_time >= p.window_start AND m.event_time < p.window_end
        AND m.last_denial >= m.event_time - p.mfa_within
        AND coalesce(m.last_success_n < m.last_denial_n, true)
),
mfa_evidence AS (
    SELECT
        c.signin_id AS trigger_id, c.user_key, c.user_id, c.upn, c.event_time AS trigger_time,
        d.signin_id, d.event_time,
        count(*) OVER (PARTITION BY c.signin_id) AS denials
    FROM mfa_candidates AS c
    CROSS JOIN params AS p
    JOIN mfa_events AS d
        ON d.user_key = c.user_key AND d.denial
        AND d.event_time >= c.event_time - p.mfa_window
        AND d.row_number_in_user < c.row_number_in_user
),
mfa AS (
    SELECT
        'mfa_fatigue' AS detection, coalesce(e.upn, e.user_key) AS entity, 'user' AS entity_type,
        e.user_key AS entity_key, e.user_id, e.trigger_time, NULL::DOUBLE AS distance_km,
        NULL::DOUBLE AS speed_kmh, NULL::VARCHAR AS note, x.signin_id, x.event_time
    FROM (
        SELECT DISTINCT trigger_id, user_key, user_id, upn, trigger_time
        FROM mfa_evidence AS e, params AS p
        WHERE e.denials >= p.mfa_fatigue_min_denials
    ) AS e
    JOIN (
        -- the evidence of each trigger: its denials, then the success itself
        SELECT ev.trigger_id, ev.signin_id, ev.event_time FROM mfa_evidence AS ev
        UNION ALL
        SELECT DISTINCT ev.trigger_id, ev.trigger_id, ev.trigger_time FROM mfa_evidence AS ev
    ) AS x ON x.trigger_id = e.trigger_id
),

-- Legacy authentication success -------------------------------------------------------------------
legacy_successes AS (
    SELECT
        s.*,
        lag(s.event_time) OVER (
            PARTITION BY s.user_key ORDER BY s.event_time, s.signin_id
        ) AS previous_legacy
    FROM signins AS s, params AS p
    WHERE s.result = 'success' AND s.user_key IS NOT NULL
        AND is_legacy_client(s.client_app_used)
        AND s.event_time >= p.window_start - p.legacy_quiet AND s.event_time < p.window_end
),
legacy AS (
    SELECT
        'legacy_auth_success' AS detection, coalesce(l.upn, l.user_key) AS entity,
        'user' AS entity_type, l.user_key AS entity_key, l.user_id,
        l.event_time AS trigger_time, NULL::DOUBLE AS distance_km, NULL::DOUBLE AS speed_kmh,
        'client ' || l.client_app_used AS note, l.signin_id, l.event_time
    FROM legacy_successes AS l, params AS p
    WHERE l.event_time >= p.window_start AND l.event_time < p.window_end
        AND (l.previous_legacy IS NULL OR l.previous_legacy <= l.event_time - p.legacy_quiet)
),

-- All findings, one row each, with their evidence --------------------------------------------------
evidence AS (
    SELECT * FROM spray
    UNION ALL BY NAME SELECT * FROM brute
    UNION ALL BY NAME SELECT * FROM new_country
    UNION ALL BY NAME SELECT * FROM travel
    UNION ALL BY NAME SELECT * FROM mfa
    UNION ALL BY NAME SELECT * FROM legacy
),
findings AS (
    SELECT
        e.detection, e.entity, e.entity_type, e.entity_key, e.user_id, e.trigger_time,
        e.distance_km, e.speed_kmh, e.note,
        min(e.event_time) AS window_start,
        count(*) AS signins,
        count(*) FILTER (WHERE s.result = 'failure') AS failures,
        count(*) FILTER (WHERE s.result = 'success') AS successes,
        count(DISTINCT s.user_key) AS distinct_users,
        count(DISTINCT s.ip_address) AS distinct_ips,
        count(DISTINCT s.country) AS distinct_countries,
        list_sort(list_distinct(list(s.country))) AS countries,
        list_sort(list_distinct(list(s.ip_address))) AS ip_addresses,
        list(e.signin_id ORDER BY e.event_time, e.signin_id) AS signin_ids
    FROM evidence AS e
    JOIN signins AS s ON s.signin_id = e.signin_id AND s.event_time = e.event_time
    GROUP BY ALL
)

SELECT
    p.window_start AS hour,
    md5(concat_ws('|', f.detection, f.entity_key, epoch_us(f.window_start)::VARCHAR,
                  epoch_us(f.trigger_time)::VARCHAR)) AS detection_id,
    f.detection,
    CASE WHEN f.detection IN ('new_country', 'legacy_auth_success') THEN 'medium'
         ELSE 'high' END AS severity,
    f.entity,
    f.entity_type,
    f.user_id,
    f.window_start,
    f.trigger_time AS window_end,
    f.signins,
    f.failures,
    f.successes,
    f.distinct_users,
    f.distinct_ips,
    f.distinct_countries,
    f.countries,
    f.ip_addresses,
    f.distance_km,
    f.speed_kmh,
    CASE f.detection
        WHEN 'password_spray' THEN format('{} failures for {} users from one IP',
                                          f.failures, f.distinct_users)
        WHEN 'distributed_brute_force' THEN format('{} failures from {} IPs in {} countries',
                                                   f.failures, f.distinct_ips,
                                                   f.distinct_countries)
        WHEN 'impossible_travel' THEN format('{} km at {} km/h', f.distance_km,
                                             coalesce(f.speed_kmh::VARCHAR, 'infinite'))
        WHEN 'mfa_fatigue' THEN format('{} MFA denials then a success', f.failures)
        ELSE f.note
    END AS description,
    f.signin_ids
FROM findings AS f, params AS p
