-- The 360Learning v2 course upsert item go1sync would send for each mart row now, and a hash
-- of it. The contract's table of differences, for courses: image -> imageUrl, lang ->
-- defaultLang, authors -> sources (provider as fallback, already in the mart), modifiedAt not
-- sent, lower-case contentType; optional fields left out when empty (the API refuses "" and
-- null for them): json_merge_patch drops the keys whose value is NULL.
SELECT
    c.external_id AS key,
    c.archived,
    CASE WHEN len(c.sources) = 0
         THEN 'no author and no provider name: 360Learning requires a non-empty sources'
    END AS payload_error,
    json_merge_patch(
        json_object(
            'externalId', c.external_id,
            'name', c.name,
            'launchUrl', c.launch_url,
            'defaultLang', c.lang,
            'sources', to_json([{'name': s} FOR s IN c.sources]),
            'subjects', to_json(c.subjects)
        ),
        json_object(
            'description', nullif(trim(c.description), ''),
            'imageUrl', c.image,
            'duration', c.duration,
            'contentType', c.content_type
        )
    ) AS payload
FROM marts.content_360 AS c
