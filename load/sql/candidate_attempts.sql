-- The 360Learning v2 statistics record go1sync would send for each attempt now, and what the
-- loader needs to order and batch it. The contract's table of differences, for statistics:
-- externalCourseId -> courseIdentifier {type: externalId}; firstActivity/lastActivity ->
-- firstActivityAt/lastActivityAt; completedAt -> lastActivityAt with progress 100 (v2 has no
-- completedAt); time spent 0 ms -> timeSpent 1 (the API's minimum); score omitted when empty.
-- forceNew is never sent: the attempt rule alone decides, so a record sent twice updates the
-- attempt it made instead of making a second one.
--
-- The learner: whether 360Learning matches userIdentifier.mail case-sensitively is not
-- documented, so Go1's email is matched here against 360Learning's own user list (the latest
-- GET /api/v2/users, raw.l360_users), trimmed and case-insensitively, and a user found goes
-- out by its id (userIdentifier internalId); the mail only when no list was read yet.
-- l360_user_id is NULL when the list has no such user (or only a deleted one): such an
-- attempt is held, not sent (attempt_changes). payload_hash is the hash of the record with
-- the learner by email, so a learner found by id later is not a change of the attempt.
WITH listing AS (
    SELECT max(_run_id) AS run_id FROM raw.l360_users
),
users AS (
    -- one user per email, ignoring case and blanks; an active user wins over an invited one
    SELECT lower(trim(mail)) AS mail_key,
           arg_min(user_id, (coalesce(record ->> '$.status', '') <> 'active', user_id)) AS user_id
    FROM raw.l360_users
    WHERE _run_id = (SELECT run_id FROM listing)
      AND nullif(trim(mail), '') IS NOT NULL AND user_id IS NOT NULL
      AND (record ->> '$.status') IS DISTINCT FROM 'deleted'
    GROUP BY 1
),
mapped AS (
    SELECT
        a.*,
        u.user_id AS l360_user_id,
        json_merge_patch(
            json_object(
                'courseIdentifier',
                json_object('type', 'externalId', 'value', a.external_course_id),
                'userIdentifier', json_object('type', 'mail', 'value', a.user_email),
                'progress', a.progress,
                'timeSpent', greatest(a.time_spent_ms, 1),
                'firstActivityAt', strftime(a.first_activity, '%Y-%m-%dT%H:%M:%S.%gZ'),
                'lastActivityAt', strftime(coalesce(a.completed_at, a.last_activity),
                                           '%Y-%m-%dT%H:%M:%S.%gZ')
            ),
            json_object('result', a.result, 'score', a.score)
        ) AS by_mail
    FROM marts.attempts_360 AS a
    LEFT JOIN users AS u ON u.mail_key = a.user_email
)
SELECT
    m.go1_enrollment_id AS key,
    m.external_course_id,
    m.user_email,
    m.first_activity,
    m.attempt_state,
    m.l360_user_id,
    (SELECT run_id FROM listing) IS NOT NULL AS users_listed,
    CASE WHEN m.l360_user_id IS NULL THEN m.by_mail
         ELSE json_merge_patch(m.by_mail, json_object(
             'userIdentifier', json_object('type', 'internalId', 'value', m.l360_user_id)))
    END AS payload,
    md5(CAST(m.by_mail AS VARCHAR)) AS payload_hash
FROM mapped AS m
