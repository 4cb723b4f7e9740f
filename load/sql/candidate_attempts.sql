-- The 360Learning v2 statistics record go1sync would send for each attempt now, and what the
-- loader needs to order and batch it. The contract's table of differences, for statistics:
-- externalCourseId -> courseIdentifier {type: externalId}; firstActivity/lastActivity ->
-- firstActivityAt/lastActivityAt; completedAt -> lastActivityAt with progress 100 (v2 has no
-- completedAt); time spent 0 ms -> timeSpent 1 (the API's minimum); score omitted when empty.
-- forceNew is never sent: the attempt rule alone decides, so a record sent twice updates the
-- attempt it made instead of making a second one.
SELECT
    a.go1_enrollment_id AS key,
    a.external_course_id,
    a.user_email,
    a.first_activity,
    a.attempt_state,
    json_merge_patch(
        json_object(
            'courseIdentifier', json_object('type', 'externalId', 'value', a.external_course_id),
            'userIdentifier', json_object('type', 'mail', 'value', a.user_email),
            'progress', a.progress,
            'timeSpent', greatest(a.time_spent_ms, 1),
            'firstActivityAt', strftime(a.first_activity, '%Y-%m-%dT%H:%M:%S.%gZ'),
            'lastActivityAt', strftime(coalesce(a.completed_at, a.last_activity),
                                       '%Y-%m-%dT%H:%M:%S.%gZ')
        ),
        json_object('result', a.result, 'score', a.score)
    ) AS payload
FROM marts.attempts_360 AS a
