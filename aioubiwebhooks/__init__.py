"""Asynchronous client for the UbiOps webhooks API."""

from ._outcome import Outcome
from ._polling import PollSchedule
from ._retry import RetryPolicy, is_testing, set_testing
from .bulk import BulkProgress
from .errors import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotAttemptedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    TestFailedError,
    TestTimeoutError,
    UbiOpsError,
    ValidationError,
)
from .models import (
    UNSET,
    EventType,
    ObjectType,
    TestStatus,
    WebhookCreate,
    WebhookDetail,
    WebhookHeader,
    WebhookTestCreate,
    WebhookTestDetail,
    WebhookUpdate,
)
from .session import DEFAULT_HOST, InsecureTransportWarning, WebhooksSession

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_HOST",
    "UNSET",
    "ApiConnectionError",
    "ApiError",
    "ApiTimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BulkProgress",
    "ConflictError",
    "EventType",
    "InsecureTransportWarning",
    "NotAttemptedError",
    "NotFoundError",
    "ObjectType",
    "Outcome",
    "PermissionDeniedError",
    "PollSchedule",
    "RateLimitError",
    "ResponseDecodeError",
    "RetryPolicy",
    "ServerError",
    "TestFailedError",
    "TestStatus",
    "TestTimeoutError",
    "UbiOpsError",
    "ValidationError",
    "WebhookCreate",
    "WebhookDetail",
    "WebhookHeader",
    "WebhookTestCreate",
    "WebhookTestDetail",
    "WebhookUpdate",
    "WebhooksSession",
    "__version__",
    "is_testing",
    "set_testing",
]
