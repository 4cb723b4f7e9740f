{{ config(description='The 360Learning v2 course upsert item go1sync would send for each course of the catalog mapping now, with its hash, or why it cannot be sent.') }}
{{ column("key", "The course's externalId: the Go1 lo_id (marts.content_360.external_id).") }}
{{ column("archived", "The mapping's archived flag: an archived course is not upserted but archived.") }}
{{ column('payload_error', 'Why no valid item can be made (360Learning requires a non-empty sources), or NULL: such a course is held, and listed in marts.rejects.') }}
{{ column("payload", "The upsert item (contract, table of differences): image -> imageUrl and the provider's logo -> sources[].logoUrl, both only as https:// URLs; lang -> defaultLang; authors -> sources (provider as fallback); modifiedAt not sent; lower-case contentType; optional fields left out when empty (the API refuses empty strings and null).") }}
{{ column('payload_hash', 'md5 of the payload: what the change set compares with the pushed snapshot.') }}
{% call audit_query('items_are_valid') %}
-- what ExternalCourseDTO requires of every item that would be sent, and https URLs only
SELECT key, payload FROM {{ this }}
WHERE payload_error IS NULL
  AND NOT (payload ->> '$.externalId' IS NOT NULL AND payload ->> '$.name' IS NOT NULL
           AND payload ->> '$.launchUrl' IS NOT NULL AND payload ->> '$.defaultLang' IS NOT NULL
           AND json_array_length(json_extract(payload, '$.sources')) > 0
           AND json_type(json_extract(payload, '$.subjects')) = 'ARRAY'
           AND coalesce(starts_with(lower(payload ->> '$.imageUrl'), 'https://'), true))
{% endcall %}

-- URLs go out only as absolute https:// URLs (a Go1 image or logo may be blank, relative or
-- plain http, which 360Learning would show as a broken or mixed-content image): the image as
-- imageUrl, and the provider's logo as the logoUrl of a source that is the provider (the
-- fallback, or an author of the same name as the provider). json_merge_patch drops the keys
-- whose value is NULL.
WITH urls AS (
    SELECT
        c.*,
        CASE WHEN regexp_matches(c.image, '^(?i)https://[^/\s]+') THEN c.image END AS image_url,
        CASE WHEN regexp_matches(c.provider_logo, '^(?i)https://[^/\s]+')
             THEN c.provider_logo END AS logo_url
    FROM {{ ref('content_360') }} AS c
),

items AS (
    SELECT
        c.external_id AS key,
        c.archived,
        CASE WHEN len(c.sources) = 0
             THEN 'no author and no provider name for "' || c.name
                  || '": 360Learning requires a non-empty sources'
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
)

SELECT *, md5(CAST(payload AS VARCHAR)) AS payload_hash FROM items
