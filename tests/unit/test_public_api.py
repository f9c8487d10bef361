"""The package exports exactly its public names, and every module says what it exports."""

from __future__ import annotations

import importlib
import pkgutil

import aioubiwebhooks

PUBLIC = {
    "DEFAULT_HOST", "UNSET", "__version__",
    # the session and its helpers
    "WebhooksSession", "RetryPolicy", "PollSchedule", "Outcome", "BulkProgress",
    "set_testing", "is_testing", "InsecureTransportWarning",
    # the HTTP layer, replaceable (MockTransport for tests)
    "Transport", "MockTransport", "HttpRequest", "HttpResponse",
    # models
    "WebhookHeader", "WebhookCreate", "WebhookUpdate", "WebhookDetail",
    "WebhookTestCreate", "WebhookTestDetail", "ObjectType", "EventType", "TestStatus",
    # the event stream
    "WebhookReceiver", "ReceiverStats", "WebhookEvent", "DeploymentEvent", "PipelineEvent",
    "event_to_json",
    # migration
    "Plan", "ApplyResult", "CopyResult", "PlanBlockedError",
    # errors
    "UbiOpsError", "ValidationError", "ApiError", "BadRequestError", "AuthenticationError",
    "PermissionDeniedError", "NotFoundError", "ConflictError", "RateLimitError", "ServerError",
    "ResponseDecodeError", "ApiConnectionError", "ApiTimeoutError", "NotAttemptedError",
    "RedirectError", "ResponseTooLargeError", "TlsError",
    "TestTimeoutError", "TestFailedError", "EventTimeoutError", "ReceiverClosedError",
}  # fmt: skip


def test_package_exports_exactly_the_public_names() -> None:
    assert set(aioubiwebhooks.__all__) == PUBLIC
    assert len(aioubiwebhooks.__all__) == len(PUBLIC)
    for name in PUBLIC:
        assert getattr(aioubiwebhooks, name) is not None


def test_every_module_declares_all_and_defines_it() -> None:
    for info in pkgutil.walk_packages(aioubiwebhooks.__path__, "aioubiwebhooks."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{info.name} has no __all__"
        missing = [name for name in exported if not hasattr(module, name)]
        assert missing == [], f"{info.name} exports undefined names {missing}"


def test_every_error_is_an_ubiops_error() -> None:
    for name in PUBLIC:
        value = getattr(aioubiwebhooks, name)
        if (
            isinstance(value, type)
            and issubclass(value, Exception)
            and value is not (aioubiwebhooks.InsecureTransportWarning)
        ):
            assert issubclass(value, aioubiwebhooks.UbiOpsError), name
