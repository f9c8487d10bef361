"""Migration: export a project's webhooks, plan the way to a desired state, apply it, copy.

The flow is ``export`` -> edit, rename or rewrite the specs -> ``plan`` -> ``apply``.
A plan is computed from one list call and changes nothing; ``apply`` carries it out
with the bulk runner, one :class:`~aioubiwebhooks.Outcome` per action. Both are
re-runnable: after an interrupted or partly failed apply, planning again finds
exactly what is left.

Protected header values cannot be read from the API, so:

- an export writes them as ``null`` (unknown), never inventing a value;
- a spec gives them as ``${VAR}`` references, resolved from ``environ`` (default
  ``os.environ``; only protected values are resolved), or leaves them unknown;
  every unknown value is an explicit :class:`UnknownValue`, never a stand-in string;
- a known value is always sent, on create and on update alike: the API never shows
  the stored one, so it cannot be known to be equal, and a plan never calls a webhook
  unchanged while its secret may differ;
- an unknown value is kept as stored on update (sent as null, which means "keep");
- a webhook that would need an unknown value (a create, a replace, or a protected
  header the stored webhook lacks) is *blocked*: :func:`apply` refuses a plan with
  blocked entries before changing anything (:class:`~aioubiwebhooks.PlanBlockedError`).

The layers here are typed against :class:`~aioubiwebhooks._endpoints.WebhooksAPI`, the
seven endpoint coroutines a session offers, and never import the session itself.
"""

from __future__ import annotations

from ..errors import PlanBlockedError
from ._actions import Action, Blocked, Create, Delete, Plan, Replace, Update
from ._apply import apply
from ._copy import Renamer, copy
from ._diff import SpecInput, diff
from ._export import export
from ._plan import plan
from ._results import ApplyResult, CopyResult
from ._spec import DesiredHeader, DesiredWebhook, WebhookSpec
from ._specfile import SpecFormat, dump_specs, load_specs, read_specs
from ._values import UnknownValue

__all__ = [
    "Action",
    "ApplyResult",
    "Blocked",
    "CopyResult",
    "Create",
    "Delete",
    "DesiredHeader",
    "DesiredWebhook",
    "Plan",
    "PlanBlockedError",
    "Renamer",
    "Replace",
    "SpecFormat",
    "SpecInput",
    "UnknownValue",
    "Update",
    "WebhookSpec",
    "apply",
    "copy",
    "diff",
    "dump_specs",
    "export",
    "load_specs",
    "plan",
    "read_specs",
]
