"""The HTTP core both API clients stand on: transport, retry policy, token cache, paging,
text helpers, the error root of API calls, the endpoint tables' type, and the base client.

It knows neither API's paths: ``extract.client.Go1Client`` and ``load.client.L360Client``
supply their own through the base client's hooks.
"""
