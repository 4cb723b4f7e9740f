{{ config(materialized='incremental', unique_key='lo_id', key_kind='learning_object', description='The current records of every Go1 learning object that has been in My Library (those of the latest run that landed its lo_id; normally one, two are duplicates), flattened, timestamps parsed to UTC, with its place in the latest full listing and the reason it cannot be mapped, if any.') }}
{{ column('lo_id', 'Go1 legacy id (lo_id): the id enrollments and play URLs use; the 360Learning externalId.') }}
{{ column('in_latest_listing', 'True when the lo_id is in the latest complete My Library listing (published, retired or removed), or a webhook micro-run since found it there (raw.go1_library_checks, after content.add or content.remove); false means it left My Library.') }}
{{ column('lifecycle_state', 'Go1 lifecycle.state: draft, published, retired or removed; the state the object was listed under when the record has none.') }}
{{ column('updated_at', 'Go1 updated_time parsed to UTC (Go1 writes Z, +00:00 and +0000, with or without milliseconds); DuckDB also reads year 10000, infinity, year 0 and negative years, which are kept here and rejected as timestamp_out_of_range.') }}
{{ column('_record_hash', 'Identifies the raw version this row was read from (raw.go1_learning_objects._record_hash).') }}
{{ column('title', 'Go1 core.title with leading and trailing whitespace of every kind removed (tabs, line breaks, no-break and other Unicode spaces, zero-width space, BOM); NULL when it is not a JSON string or nothing is left.') }}
{{ column('title_json', 'Go1 core.title as Go1 sent it (JSON): the detail of an invalid_title.') }}
{{ column('copy', 'Rank of this record among the records of the latest run that landed its lo_id (1 = the newest: the latest in-range updated_time, then the last landed); NULL without an lo_id.') }}
{{ column('kept_copy', 'For a duplicate_key: the Go1 id and updated_time of the copy of this lo_id that goes on.') }}
{{ column('reject_reason', 'Why the object cannot be mapped, or NULL: missing_id; duplicate_key (another record of the same lo_id is newer, see copy); invalid_title (core.title is not a JSON string: a number, an object, an array, a boolean); missing_title (absent, null, or empty once all whitespace is trimmed); unparseable_timestamp; timestamp_out_of_range (updated_time outside seeds.timestamp_bounds, 1970-01-01 to 2100-12-31 UTC: year 10000, infinity, year 0, negative years); unknown_type; type_not_synced.') }}
{% call audit_query('one_copy_of_each_lo_id_goes_on') %}
SELECT lo_id, count(*) AS copies FROM {{ this }}
WHERE lo_id IS NOT NULL AND reject_reason IS DISTINCT FROM 'duplicate_key'
GROUP BY lo_id HAVING count(*) > 1
{% endcall %}

WITH full_listing AS (
    -- The latest extract whose catalog stream succeeded listed all of My Library.
    -- one row per lo_id (one listed under two states would double its record in the join)
    SELECT lo_id, min(listed_state) AS listed_state
    FROM {{ source('raw', 'go1_library_listings') }}
    WHERE _run_id = (
        SELECT max(run_id) FROM {{ source('meta', 'stream_runs') }}
        WHERE stream = 'learning_objects' AND status = 'success'
    )
    GROUP BY lo_id
),

checked AS (
    -- What webhook micro-runs learnt since (Go1 said an object joined or left My Library, and
    -- the listing filtered to it answered): the latest check of each lo_id stands in for the
    -- full listing's word on it.
    SELECT lo_id, arg_max(listed_state, (_run_id, _extracted_at)) AS listed_state,
           arg_max(in_library, (_run_id, _extracted_at)) AS in_library
    FROM {{ source('raw', 'go1_library_checks') }}
    WHERE _run_id > coalesce((
        SELECT max(run_id) FROM {{ source('meta', 'stream_runs') }}
        WHERE stream = 'learning_objects' AND status = 'success'), 0)
    GROUP BY lo_id
),

latest_listing AS (
    SELECT lo_id, listed_state FROM full_listing
    WHERE lo_id NOT IN (SELECT lo_id FROM checked)
    UNION ALL
    SELECT lo_id, listed_state FROM checked WHERE in_library
),

current_records AS (
    -- The current data: every record of the latest run that landed each lo_id (a newer run's
    -- record is a new version; two different records of one run are duplicates, which the
    -- raw ..._latest view would pick from silently), one row per distinct record (the same
    -- record read twice, e.g. by a restarted scroll, is one), at the place it was last landed.
    -- Chosen on the small columns only, as raw.go1_learning_objects_latest is: a window that
    -- carried every record's JSON ran out of memory on a large catalog.
    SELECT
        arg_max(row_id, (_extracted_at, row_id)) AS row_id,
        count(*) OVER (PARTITION BY coalesce(lo_id, _record_hash)) AS records
    FROM (
        SELECT rowid AS row_id, lo_id, _run_id, _extracted_at, _record_hash
        FROM {{ source('raw', 'go1_learning_objects') }}
        {% if is_incremental() %}
        WHERE lo_id IN {{ touched('learning_object') }}  -- a micro-run: the objects it landed
        {% endif %}
        QUALIFY _run_id = max(_run_id) OVER (PARTITION BY coalesce(lo_id, _record_hash))
    )
    GROUP BY coalesce(lo_id, _record_hash), lo_id, _record_hash
),

parsed AS (
    -- One JSON parse per record, into the fields the mapping reads (text leaves, so an odd
    -- value becomes NULL below instead of failing the run); fifteen ->> would parse it fifteen
    -- times, and run out of memory on a large catalog. title is read as JSON: a number or an
    -- object must be told from a string.
    SELECT
        r.lo_id, r._run_id, r._record_hash, r._extracted_at, r.rowid AS landing_row, c.records,
        from_json(r.record, '{
            "id": "VARCHAR", "created_time": "VARCHAR", "updated_time": "VARCHAR",
            "core": {"type": "VARCHAR", "title": "JSON", "description": "VARCHAR",
                     "image": {"value": "VARCHAR"}},
            "relevance": {"duration": "VARCHAR", "language": "VARCHAR",
                          "author": {"name": "VARCHAR"}},
            "lifecycle": {"state": "VARCHAR"},
            "provider": {"name": "VARCHAR", "logo": "VARCHAR"},
            "topics": {"items": [{"name": "VARCHAR"}]}
        }') AS j
    FROM {{ source('raw', 'go1_learning_objects') }} AS r
    JOIN current_records AS c ON c.row_id = r.rowid
),

flattened AS (
    SELECT
        p.lo_id,
        p.j.id AS go1_id,
        lower(trim(p.j.core.type)) AS go1_type,
        -- every Unicode white space (\t-\r, U+0085, the Z categories: NBSP, em space,
        -- U+3000, line and paragraph separators...), and the invisible U+200B and U+FEFF
        CASE WHEN json_type(p.j.core.title) = 'VARCHAR' THEN nullif(regexp_replace(
            p.j.core.title ->> '$',
            '^[\t-\r\x{85}\p{Z}\x{200B}\x{FEFF}]+|[\t-\r\x{85}\p{Z}\x{200B}\x{FEFF}]+$', '', 'g'),
            '') END AS title,
        p.j.core.title AS title_json,
        p.j.core.description AS description,
        nullif(trim(p.j.core.image.value), '') AS image_url,
        try_cast(p.j.relevance.duration AS DOUBLE) AS duration_minutes,
        nullif(trim(p.j.relevance.language), '') AS language,
        nullif(trim(p.j.relevance.author.name), '') AS author_name,
        nullif(trim(p.j.provider.name), '') AS provider_name,
        nullif(trim(p.j.provider.logo), '') AS provider_logo,
        [trim(topic.name) FOR topic IN coalesce(p.j.topics.items, [])
         IF nullif(trim(topic.name), '') IS NOT NULL] AS topics,
        -- A record without lifecycle.state takes the state it was listed under (each listing
        -- asks for one state): otherwise "archived" would be NULL and stop the transform.
        lower(trim(coalesce(p.j.lifecycle.state, l.listed_state))) AS lifecycle_state,
        p.j.updated_time AS updated_time_text,
        try_cast(p.j.updated_time AS TIMESTAMPTZ) AS updated_at,
        try_cast(p.j.updated_time AS TIMESTAMPTZ) BETWEEN b.earliest AND b.latest
            AS updated_in_range,
        try_cast(p.j.created_time AS TIMESTAMPTZ) AS created_at,
        l.lo_id IS NOT NULL AS in_latest_listing,
        l.listed_state,
        p._run_id AS go1sync_run_id,
        p._record_hash,
        p._extracted_at,
        p.landing_row,
        p.records
    FROM parsed AS p
    LEFT JOIN latest_listing AS l ON l.lo_id = p.lo_id
    CROSS JOIN {{ ref('timestamp_bounds') }} AS b
),

ranked AS (
    -- Of two records with one lo_id, the newest goes on (by updated_time, one out of range
    -- counting as none, then the one landed last) and the others are duplicate_key. Only
    -- lo_ids with more than one record are ranked, on the few columns it needs.
    SELECT
        landing_row,
        row_number() OVER newest AS copy,
        first_value(coalesce(go1_id, '(no id)') || ' updated '
                    || coalesce(updated_time_text, '(none)')) OVER newest AS newest_copy
    FROM flattened
    WHERE nullif(trim(lo_id), '') IS NOT NULL AND records > 1
    WINDOW newest AS (
        PARTITION BY lo_id
        ORDER BY CASE WHEN updated_in_range THEN updated_at END DESC NULLS LAST,
                 _extracted_at DESC, landing_row DESC)
)

SELECT
    f.* EXCLUDE (updated_in_range, _extracted_at, landing_row, records),
    CASE WHEN nullif(trim(f.lo_id), '') IS NOT NULL THEN coalesce(k.copy, 1) END AS copy,
    CASE WHEN k.copy > 1 THEN k.newest_copy END AS kept_copy,
    CASE
        WHEN f.lo_id IS NULL OR trim(f.lo_id) = '' THEN 'missing_id'
        WHEN k.copy > 1 THEN 'duplicate_key'
        WHEN f.title_json IS NOT NULL AND json_type(f.title_json) <> 'VARCHAR' THEN 'invalid_title'
        WHEN f.title IS NULL THEN 'missing_title'
        WHEN f.updated_at IS NULL THEN 'unparseable_timestamp'
        WHEN NOT f.updated_in_range THEN 'timestamp_out_of_range'
        WHEN t.go1_type IS NULL THEN 'unknown_type'
        -- a Go1 type the description does not sync (playlist, award): no content type
        WHEN t.content_type IS NULL THEN 'type_not_synced'
    END AS reject_reason
FROM flattened AS f
LEFT JOIN ranked AS k ON k.landing_row = f.landing_row
LEFT JOIN {{ ref('content_type_map') }} AS t ON t.go1_type = f.go1_type
