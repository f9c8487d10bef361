"""Pytest fixtures for applications that use aioubiwebhooks (registered as a pytest plugin)."""
