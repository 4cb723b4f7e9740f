"""Reading Go1: the HTTP client, its retry policy and its errors."""

from apiclient.client import ClientStats
from apiclient.retry import RetryPolicy
from extract.client import Go1Client, Page
from extract.errors import AuthError, ExtractError, ScopeError, ScrollExpired

__all__ = ["AuthError", "ClientStats", "ExtractError", "Go1Client", "Page", "RetryPolicy",
           "ScopeError", "ScrollExpired"]
