"""Asynchronous client for the UbiOps webhooks API."""

from ._outcome import Outcome
from ._polling import PollSchedule
from ._retry import RetryPolicy, is_testing, set_testing
from ._version import __version__
from .bulk import BulkProgress
from .errors import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    EventTimeoutError,
    NotAttemptedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ReceiverClosedError,
    ResponseDecodeError,
    ServerError,
    TestFailedError,
    TestTimeoutError,
    UbiOpsError,
    ValidationError,
)
from .events import DeploymentEvent, PipelineEvent, WebhookEvent, event_to_json
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
from .receiver import ReceiverStats, WebhookReceiver
from .session import DEFAULT_HOST, InsecureTransportWarning, WebhooksSession
from .sync import ApplyResult, CopyResult, Plan, PlanBlockedError

__all__ = [
    "DEFAULT_HOST",
    "UNSET",
    "ApiConnectionError",
    "ApiError",
    "ApiTimeoutError",
    "ApplyResult",
    "AuthenticationError",
    "BadRequestError",
    "BulkProgress",
    "ConflictError",
    "CopyResult",
    "DeploymentEvent",
    "EventTimeoutError",
    "EventType",
    "InsecureTransportWarning",
    "NotAttemptedError",
    "NotFoundError",
    "ObjectType",
    "Outcome",
    "PermissionDeniedError",
    "PipelineEvent",
    "Plan",
    "PlanBlockedError",
    "PollSchedule",
    "RateLimitError",
    "ReceiverClosedError",
    "ReceiverStats",
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
    "WebhookEvent",
    "WebhookHeader",
    "WebhookReceiver",
    "WebhookTestCreate",
    "WebhookTestDetail",
    "WebhookUpdate",
    "WebhooksSession",
    "__version__",
    "event_to_json",
    "is_testing",
    "set_testing",
]
