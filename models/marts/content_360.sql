{{ config(materialized='incremental', unique_key='external_id', key_kind='learning_object', description='The catalog mapping: one 360Learning external course per Go1 learning object of a synced type that has been in My Library.') }}
{{ column('external_id', 'Spec, catalog mapping: id -> externalId (the Go1 lo_id).') }}
{{ column('name', 'Spec: title -> name.') }}
{{ column('description', 'Spec: description -> description (Go1 HTML, kept as it is).') }}
{{ column('image', 'Spec: image -> image, the URL of the image as Go1 gives it; NULL when Go1 has none. Sent as imageUrl only when it is an https:// URL.') }}
{{ column('duration', 'Spec: delivery.duration -> duration, course duration in minutes (rounded); NULL when Go1 gives none or zero, or outside the 1-100000 minutes 360Learning accepts.') }}
{{ column('authors', 'Spec: authors.name -> authors (Go1 v3 relevance.author.name).') }}
{{ column('sources', 'v2 sources (required, non-empty): the authors, else the provider name (contract: sources with the provider as fallback).') }}
{{ column('provider_name', 'Go1 provider.name; the source sources falls back to.') }}
{{ column('provider_logo', 'Go1 provider.logo as Go1 sends it; goes out as the logoUrl of the source that is the provider when it is an https:// URL.') }}
{{ column('sources_source', 'Where sources came from: authors, provider, or none (no author and no provider: the course cannot be sent).') }}
{{ column('lang', 'Spec: language -> lang, a Go1 code such as en or en-US mapped to a 360Learning defaultLang through seeds.language_map (the full code, else its language), else the fallback language.') }}
{{ column('lang_source', 'mapped (full code found), mapped_language (only the language part found), or fallback (unknown or missing code: the fallback_language setting was used).') }}
{{ column('launch_url', 'Spec: launchUrl = Go1 instance URL + /play/ + id of the content, e.g. https://360learning-dev.mygo1.com/play/36439791.') }}
{{ column('modified_at', 'Spec: updated_time -> modifiedAt, last date/time the content was updated (UTC).') }}
{{ column('subjects', 'Spec: attributes.topics.values -> subjects (Go1 v3 topics.items[].name).') }}
{{ column('content_type', 'Spec: type -> contentType; audio: audiobook, course: course, document: article, interactive: course, link: course, text: article, video: video (seeds.content_type_map).') }}
{{ column('archived', 'Spec: published -> archived if active = false; true when the object is not published, or is no longer in My Library.') }}
{{ column('archived_reason', 'Why archived: the lifecycle state (draft, retired, removed) or left_my_library; NULL when live.') }}
{{ audit('unique', columns=['external_id']) }}
{{ audit('not_null', columns=['external_id', 'name', 'launch_url', 'lang', 'lang_source', 'content_type', 'archived', 'modified_at']) }}
{{ audit('accepted_values', column='content_type', values=['course', 'article', 'audiobook', 'video']) }}
{{ audit('relationships', column='lang', to='default_langs', field='default_lang') }}
{% call audit_query('launch_url_is_portal_play_link') %}
SELECT external_id, launch_url FROM {{ this }}
WHERE launch_url <> rtrim({{ var('portal_url') }}, '/') || '/play/' || external_id
   OR launch_url LIKE '%//play/%'
{% endcall %}
{% call audit_query('duration_within_accepted_range') %}
SELECT external_id, duration FROM {{ this }} WHERE duration NOT BETWEEN 1 AND 100000
{% endcall %}

WITH synced AS (
    SELECT lo.*, t.content_type
    FROM {{ ref('go1_learning_objects') }} AS lo
    JOIN {{ ref('content_type_map') }} AS t ON t.go1_type = lo.go1_type
    WHERE lo.reject_reason IS NULL
    {% if is_incremental() %}
    AND lo.lo_id IN {{ touched('learning_object') }}
    {% endif %}
),

languages AS (
    SELECT
        s.lo_id,
        full_code.default_lang AS full_match,
        language_only.default_lang AS language_match
    FROM synced AS s
    LEFT JOIN {{ ref('language_map') }} AS full_code
        ON full_code.go1_code = replace(lower(s.language), '_', '-')
    LEFT JOIN {{ ref('language_map') }} AS language_only
        ON language_only.go1_code = split_part(replace(lower(s.language), '_', '-'), '-', 1)
)

SELECT
    s.lo_id AS external_id,
    s.title AS name,
    s.description,
    s.image_url AS image,
    CASE WHEN round(s.duration_minutes) BETWEEN 1 AND 100000
         THEN CAST(round(s.duration_minutes) AS INTEGER) END AS duration,
    CASE WHEN s.author_name IS NULL THEN [] ELSE [s.author_name] END AS authors,
    CASE WHEN s.author_name IS NOT NULL THEN [s.author_name]
         WHEN s.provider_name IS NOT NULL THEN [s.provider_name]
         ELSE [] END AS sources,
    CASE WHEN s.author_name IS NOT NULL THEN 'authors'
         WHEN s.provider_name IS NOT NULL THEN 'provider'
         ELSE 'none' END AS sources_source,
    coalesce(l.full_match, l.language_match, {{ var('fallback_language') }}) AS lang,
    CASE WHEN l.full_match IS NOT NULL THEN 'mapped'
         WHEN l.language_match IS NOT NULL THEN 'mapped_language'
         ELSE 'fallback' END AS lang_source,
    s.language AS go1_language,
    rtrim({{ var('portal_url') }}, '/') || '/play/' || s.lo_id AS launch_url,
    s.updated_at AS modified_at,
    s.topics AS subjects,
    s.content_type,
    NOT (s.lifecycle_state = 'published' AND s.in_latest_listing) AS archived,
    CASE WHEN NOT s.in_latest_listing THEN 'left_my_library'
         WHEN s.lifecycle_state IS DISTINCT FROM 'published' THEN coalesce(s.lifecycle_state, 'unknown')
    END AS archived_reason,
    s.go1_type,
    s.provider_name,
    s.provider_logo,
    s.go1sync_run_id
FROM synced AS s
JOIN languages AS l ON l.lo_id = s.lo_id
