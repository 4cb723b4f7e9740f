{{ config(materialized='table', description='Latest version of every Go1 learning object that has been in My Library, flattened, timestamps parsed to UTC, with its place in the latest full listing and the reason it cannot be mapped, if any.') }}
{{ column('lo_id', 'Go1 legacy id (lo_id): the id enrollments and play URLs use; the 360Learning externalId.') }}
{{ column('in_latest_listing', 'True when the lo_id is in the latest complete My Library listing (published, retired or removed); false means it left My Library.') }}
{{ column('lifecycle_state', 'Go1 lifecycle.state: draft, published, retired or removed; the state the object was listed under when the record has none.') }}
{{ column('updated_at', 'Go1 updated_time parsed to UTC (Go1 writes Z, +00:00 and +0000, with or without milliseconds).') }}
{{ column('_record_hash', 'Identifies the raw version this row was read from (raw.go1_learning_objects._record_hash).') }}
{{ column('reject_reason', 'Why the object cannot be mapped (missing_id, missing_title, unparseable_timestamp, type_not_synced, unknown_type), or NULL.') }}
{{ audit('unique', columns=['lo_id']) }}

WITH latest_listing AS (
    -- The latest extract whose catalog stream succeeded listed all of My Library.
    SELECT lo_id, listed_state
    FROM {{ source('raw', 'go1_library_listings') }}
    WHERE _run_id = (
        SELECT max(run_id) FROM {{ source('meta', 'stream_runs') }}
        WHERE stream = 'learning_objects' AND status = 'success'
    )
),

parsed AS (
    -- One JSON parse per record, into the fields the mapping reads (text leaves, so an odd
    -- value becomes NULL below instead of failing the run); fifteen ->> would parse it fifteen
    -- times, and run out of memory on a large catalog.
    SELECT
        r.lo_id, r._run_id, r._record_hash,
        from_json(r.record, '{
            "id": "VARCHAR", "created_time": "VARCHAR", "updated_time": "VARCHAR",
            "core": {"type": "VARCHAR", "title": "VARCHAR", "description": "VARCHAR",
                     "image": {"value": "VARCHAR"}},
            "relevance": {"duration": "VARCHAR", "language": "VARCHAR",
                          "author": {"name": "VARCHAR"}},
            "lifecycle": {"state": "VARCHAR"},
            "provider": {"name": "VARCHAR", "logo": "VARCHAR"},
            "topics": {"items": [{"name": "VARCHAR"}]}
        }') AS j
    FROM {{ source('raw', 'go1_learning_objects_latest') }} AS r
),

flattened AS (
    SELECT
        p.lo_id,
        p.j.id AS go1_id,
        lower(trim(p.j.core.type)) AS go1_type,
        nullif(trim(p.j.core.title), '') AS title,
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
        try_cast(p.j.created_time AS TIMESTAMPTZ) AS created_at,
        l.lo_id IS NOT NULL AS in_latest_listing,
        l.listed_state,
        p._run_id AS go1sync_run_id,
        p._record_hash
    FROM parsed AS p
    LEFT JOIN latest_listing AS l ON l.lo_id = p.lo_id
)

SELECT
    f.*,
    CASE
        WHEN f.lo_id IS NULL OR trim(f.lo_id) = '' THEN 'missing_id'
        WHEN f.title IS NULL THEN 'missing_title'
        WHEN f.updated_at IS NULL THEN 'unparseable_timestamp'
        WHEN t.go1_type IS NULL THEN 'unknown_type'
        -- a Go1 type the description does not sync (playlist, award): no content type
        WHEN t.content_type IS NULL THEN 'type_not_synced'
    END AS reject_reason
FROM flattened AS f
LEFT JOIN {{ ref('content_type_map') }} AS t ON t.go1_type = f.go1_type
