"""Contract tests: the client's requests checked against the published OpenAPI files themselves.

The sandboxes are stand-ins written by this project, so a request they accept proves only that
client and sandbox agree. :mod:`tests.contract.openapi_requests` reads the OpenAPI files on its
own (it shares no code with the sandboxes) and says where a logged request departs from them.
"""
