"""How a session finds its token and host, and that it never shows the token."""

from __future__ import annotations

import warnings

import pytest

from aioubiwebhooks import InsecureTransportWarning, ValidationError, WebhooksSession


async def test_token_and_host_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UBIOPS_API_TOKEN", "Token env-secret-1")
    monkeypatch.setenv("UBIOPS_API_HOST", "https://ubiops.internal.example/v2.1")
    async with WebhooksSession() as session:
        assert session.host == "https://ubiops.internal.example/v2.1"
        assert "env-secret-1" not in repr(session)


async def test_default_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UBIOPS_API_HOST", raising=False)
    async with WebhooksSession("t") as session:
        assert session.host == "https://api.ubiops.com/v2.1"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("api.example.org", "https://api.example.org/v2.1"),
        ("https://api.example.org/", "https://api.example.org/v2.1"),
        ("https://api.example.org/v2", "https://api.example.org/v2"),
        ("http://127.0.0.1:8765/v2.1", "http://127.0.0.1:8765/v2.1"),
    ],
)
async def test_host_is_normalised(given: str, expected: str) -> None:
    async with WebhooksSession("t", given) as session:
        assert session.host == expected


def test_missing_token_is_an_error_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UBIOPS_API_TOKEN", raising=False)
    with pytest.raises(ValidationError, match="token: is required"):
        WebhooksSession()
    with pytest.raises(ValidationError, match="token"):
        WebhooksSession("   ")


@pytest.mark.parametrize("token", ["abc123", "Token abc123", "token abc123", "  Token   abc123 "])
def test_token_works_with_or_without_prefix(token: str) -> None:
    session = WebhooksSession(token, "https://h.example/v2.1")
    assert session._transport._authorization == "Token abc123"
    assert "abc123" not in repr(session)
    assert "abc123" not in repr(session._transport)


def test_plain_http_to_a_remote_host_warns(recwarn: pytest.WarningsRecorder) -> None:
    with pytest.warns(InsecureTransportWarning, match=r"plain http to api\.example\.org"):
        WebhooksSession("t", "http://api.example.org/v2.1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        WebhooksSession("t", "http://127.0.0.1:9/v2.1")
        WebhooksSession("t", "http://localhost:9/v2.1")


def test_bad_settings_are_named() -> None:
    with pytest.raises(ValidationError, match="host"):
        WebhooksSession("t", "ftp://example.org")
    with pytest.raises(ValidationError, match="timeout"):
        WebhooksSession("t", "https://h.example", timeout=0)


async def test_bad_arguments_fail_before_any_request() -> None:
    async with WebhooksSession("t", "http://127.0.0.1:9") as session:  # nothing listens there
        with pytest.raises(ValidationError, match="project_name"):
            await session.webhooks_get("", "h")
        with pytest.raises(ValidationError, match="object_type"):
            await session.webhooks_list("p", object_type="model")
        with pytest.raises(ValidationError, match="labels"):
            await session.webhooks_list("p", labels={"a,b": "c"})
        with pytest.raises(ValidationError, match="timeout"):
            await session.webhooks_update("p", "h", {"timeout": 60})
