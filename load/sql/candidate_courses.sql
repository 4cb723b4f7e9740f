-- The 360Learning v2 course upsert item go1sync would send for each mart row now, and a hash
-- of it. The contract's table of differences, for courses: image -> imageUrl, lang ->
-- defaultLang, authors -> sources (provider as fallback, already in the mart), modifiedAt not
-- sent, lower-case contentType; optional fields left out when empty (the API refuses "" and
-- null for them): json_merge_patch drops the keys whose value is NULL.
-- URLs go out only as absolute https:// URLs (a Go1 image or logo may be blank, relative or
-- plain http, which 360Learning would show as a broken or mixed-content image): the image as
-- imageUrl, and the provider's logo as the logoUrl of a source that is the provider (the
-- fallback, or an author of the same name as the provider).
WITH urls AS (
    SELECT
        c.*,
        CASE WHEN regexp_matches(c.image, '^(?i)https://[^/\s]+') THEN c.image END AS image_url,
        CASE WHEN regexp_matches(c.provider_logo, '^(?i)https://[^/\s]+')
             THEN c.provider_logo END AS logo_url
    FROM marts.content_360 AS c
)
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
            'sources', to_json([
                CASE WHEN c.logo_url IS NOT NULL
                          AND lower(trim(s)) = lower(trim(c.provider_name))
                     THEN json_object('name', s, 'logoUrl', c.logo_url)
                     ELSE json_object('name', s) END
                FOR s IN c.sources]),
            'subjects', to_json(c.subjects)
        ),
        json_object(
            'description', nullif(trim(c.description), ''),
            'imageUrl', c.image_url,
            'duration', c.duration,
            'contentType', c.content_type
        )
    ) AS payload
FROM urls AS c
