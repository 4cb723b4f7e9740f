"""Every Go1 call go1sync makes: its path, the OAuth scope it needs, and the document that says so.

One table, so that the client names a missing scope from it, ``check`` probes each scope, the
README's "Endpoints and scopes" section is generated from it (``scripts/endpoints_table.py``;
a test keeps them equal) and the contract tests know which calls are expected. Paths are
relative to ``GO1_API_URL`` (the OpenAPI's top-level server, ``https://gateway.go1.com``), except
the token call, which goes to ``GO1_AUTH_URL``.
"""

from __future__ import annotations

from apiclient.endpoints import Endpoint

# The enrollment list. Go1's published collections and the contract call it on the gateway;
# the OpenAPI operation's `servers: [{url: /report-data/enrolment}]` is a relative URL, which
# OpenAPI resolves against the document's own address, so the second form is only tried when
# the gateway answers 404 on the first (see extract/streams/enrollments.py).
ENROLLMENTS_PATH = "/enrollments"
ENROLLMENTS_OPENAPI_SERVER_PATH = "/report-data/enrolment/enrollments"


GO1_OPENAPI = "Go1 OpenAPI"
SCOPE_PAGE = "Go1's scope page; Totara's Go1 plugin (contentmarketplace_goone) asks for it"

RUN, CHECK = ("run", "extract"), ("check",)
EVENTS = ("webhooks serve",)  # the micro-runs: a delivery's details

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("POST", "/oauth/token", None, (*RUN, *CHECK),
             "access token (client credentials, form-encoded), on GO1_AUTH_URL",
             f"{GO1_OPENAPI}: securitySchemes tokenUrl; contract README"),
    Endpoint("GET", "/learning-objects", "lo.read", (*RUN, *CHECK, *EVENTS),
             "My Library, scrolled once per lifecycle state; `check` asks for limit=1; a "
             "content event's object asked for by `id[]`, to learn whether it is in My Library",
             f"{GO1_OPENAPI} (its security: lo.read)"),
    Endpoint("GET", "/learning-objects/{id}", "lo.read", EVENTS,
             "the learning object a content event names",
             f"{GO1_OPENAPI} (its security: lo.read); contract README (Webhooks)"),
    Endpoint("GET", ENROLLMENTS_PATH, "enrollment.read", (*RUN, *CHECK),
             "enrollments updated in a time window, offset paging",
             f"{GO1_OPENAPI}, the path against the top-level server (its security: "
             "enrollment.read); Go1's published collections"),
    Endpoint("GET", "/enrollments/{id}", "enrollment.read", EVENTS,
             "the enrollment an enrollment event names",
             f"{GO1_OPENAPI} (its security: enrollment.read); contract README (Webhooks)"),
    Endpoint("GET", ENROLLMENTS_OPENAPI_SERVER_PATH, "enrollment.read", (*RUN, *CHECK),
             "the same list, tried once only when the gateway answers 404 on /enrollments",
             f"{GO1_OPENAPI}: GET /enrollments' relative servers entry"),
    Endpoint("GET", "/user-accounts", "user.read", (*RUN, *CHECK),
             "the account list, read when over 200 accounts are due; its hits are landed only "
             "when they carry user.email; `check` asks for limit=1",
             f"not in the OpenAPI; contract README (hits {{id, status}} in public client "
             f"fixtures); {SCOPE_PAGE}"),
    Endpoint("GET", "/user-accounts/{id}", "user.read", (*RUN, *EVENTS),
             "a learner's account, for the email 360Learning matches learners by",
             f"not in the OpenAPI; contract README; {SCOPE_PAGE}"),
    Endpoint("GET", "/webhooks", "webhook.read", ("webhooks", *CHECK),
             "the portal's webhooks: `webhooks list`, and go1sync's found by its URL "
             "(`register`, `remove`, `check`)", f"{GO1_OPENAPI} (its security: webhook.read)"),
    Endpoint("POST", "/webhooks", "webhook.write", ("webhooks register",),
             "go1sync's webhook, when the portal has none with its URL",
             f"{GO1_OPENAPI} (its security: webhook.write)"),
    Endpoint("PATCH", "/webhooks/{id}", "webhook.write", ("webhooks register", "webhooks remove"),
             "go1sync's webhook updated in place; set inactive where a delete is refused",
             f"{GO1_OPENAPI} (its security: webhook.write)"),
    Endpoint("DELETE", "/webhooks/{id}", "webhook.write", ("webhooks remove",),
             "go1sync's webhook removed",
             "not in the OpenAPI; contract README (Webhooks: GET/PATCH/DELETE /webhooks/{id}); "
             f"{SCOPE_PAGE}"),
)
