"""Every 360Learning call go1sync makes: its path, the OAuth scope it needs, the document.

The scope of each operation is the one its OpenAPI description names ("Required OAuth scope:
`…`"); the contract tests check this table against the files, the client names a missing
scope from it (360Learning's 403 ``invalid_scope`` message is only "a human-readable
message"), ``check`` probes the scopes it can probe without writing, and the README's
"Endpoints and scopes" section is generated from it (``scripts/endpoints_table.py``).
"""

from __future__ import annotations

from apiclient.endpoints import Endpoint

# the operation, and its scope in its description ("Required OAuth scope: `…`")
CORE = "core OpenAPI"
BULK = "bulk OpenAPI"
RUN, RECONCILE, CHECK = ("run", "push"), ("reconcile",), ("check",)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("POST", "/api/v2/oauth2/token", None, (*RUN, *RECONCILE, *CHECK),
             "access token (client credentials, JSON)", CORE),
    Endpoint("GET", "/api/v2/integrations", "integrations:read", (*RUN, *CHECK),
             "finds the integration by externalPlatform[eq]", CORE),
    Endpoint("POST", "/api/v2/integrations", "integrations:write", RUN,
             "creates the integration on the first push", CORE),
    Endpoint("GET", "/api/v2/integrations/{integrationId}/courses/{externalId}",
             "integrations:read", (*RUN, *RECONCILE),
             "one external course: confirms once that resourceId is the courseId (else reads "
             "each new course's id); the read-back of every pushed course", CORE),
    Endpoint("GET", "/api/v2/users", "users:read", (*RUN, *RECONCILE, *CHECK),
             "the connector admin (mail[eq]); every user, page by page, to match learners "
             "by email", CORE),
    Endpoint("GET", "/api/v2/groups/{groupId}", "groups:read", (*RUN, *CHECK),
             "each group of L360_GROUP_IDS exists", CORE),
    Endpoint("PUT", "/api/v2/bulk/integrations/{integrationId}/courses", "integrations:bulk",
             RUN, "upserts courses (10,000 per operation)", BULK),
    Endpoint("DELETE", "/api/v2/bulk/integrations/{integrationId}/courses",
             "integrations:bulk", RUN, "archives courses (1,000 per operation)", BULK),
    Endpoint("PUT", "/api/v2/courses/{courseId}/archive", "courses:write", RUN,
             "restores a course published again in Go1 ({\"archived\": false})", CORE),
    Endpoint("POST", "/api/v2/bulk/groups/catalog", "groups:bulk", RUN,
             "shares courses with the other groups' catalogs", BULK),
    Endpoint("DELETE", "/api/v2/bulk/groups/catalog", "groups:bulk", RUN,
             "takes courses out of a removed group's catalog", BULK),
    Endpoint("POST", "/api/v2/bulk/groups/library", "groups:bulk", RUN,
             "shares courses with the other groups' libraries", BULK),
    Endpoint("DELETE", "/api/v2/bulk/groups/library", "groups:bulk", RUN,
             "takes courses out of a removed group's library", BULK),
    Endpoint("POST", "/api/v2/bulk/integrations/{integrationId}/stats", "integrations:bulk",
             RUN, "imports statistics (10,000 per operation)", BULK),
    Endpoint("GET", "/api/v2/bulk/operations", "bulkOperations:read", (*RUN, *CHECK),
             "before the first write (a token that cannot read operations never settles "
             "one); adopting an operation whose answer was lost", BULK),
    Endpoint("GET", "/api/v2/bulk/operations/{bulkOperationId}", "bulkOperations:read", RUN,
             "polls an operation", BULK),
    Endpoint("GET", "/api/v2/bulk/operations/{bulkOperationId}/results",
             "bulkOperations:read", RUN, "an operation's results, page by page", BULK),
    Endpoint("GET", "/api/v2/courses", "courses:read", (*RECONCILE, *CHECK),
             "the platform's courses, page by page", CORE),
    Endpoint("GET", "/api/v2/courses/stats", "courseStats:read", (*RECONCILE, *CHECK),
             "the platform's attempts, page by page", CORE),
)
