"""Reading Go1: the HTTP client, its retry policy and its errors."""

from extract.client import ClientStats, Go1Client, Page
from extract.errors import AuthError, ExtractError, ScopeError, ScrollExpired
from extract.retry import RetryPolicy

__all__ = ["AuthError", "ClientStats", "ExtractError", "Go1Client", "Page", "RetryPolicy",
           "ScopeError", "ScrollExpired"]
