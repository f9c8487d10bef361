"""The emulator's routes fuzzed over real loopback HTTP: whatever comes in, no 500.

Every request is built by hypothesis from the parts a client controls: the method,
the version prefix, odd path segments (percent escapes, dots, slashes, unicode),
query strings, the token and the body (JSON of the right shape with wrong types
and unknown fields, other JSON, raw bytes). Each answer must be below 500, and
every refusal a 4xx with a JSON ``{"error": "..."}`` body; the emulator's own
count of unexpected errors stays at zero. Webhook tests created along the way stay
pending (a long test delay), so nothing is ever delivered anywhere.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioubiwebhooks.emulator import EmulatorThread

TOKEN = "fuzz-token"
AUTH = f"Token {TOKEN}"


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(token=TOKEN, test_delay=3600.0) as running:
        running.emulator.add_project(
            "p", deployments={"dep": ["v1", "v2"]}, pipelines={"pipe": ["a"]}
        )
        yield running


def send(
    emulator: EmulatorThread,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", emulator.emulator.port, timeout=10)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        connection.close()


def check_answer(method: str, status: int, content_type: str, raw: bytes) -> None:
    assert status < 500, (status, raw[:300])
    if method == "HEAD" or status == 204:
        assert raw == b""
        return
    assert content_type.startswith("application/json"), (status, content_type, raw[:200])
    data = json.loads(raw)
    if status >= 400:
        assert isinstance(data, dict), data
        assert isinstance(data["error"], str), data
        assert data["error"]


# --- what a request is made of ------------------------------------------------------------

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "name",
    "url",
    "object_type",
    "object_name",
    "event",
    "headers",
    "description",
    "labels",
    "version",
    "timeout",
    "enabled",
    "retry",
    "include_result",
]
BASE: dict[str, Any] = {
    "name": "fuzz-hook",
    "url": "http://127.0.0.1:9/never",
    "object_type": "deployment",
    "object_name": "dep",
    "event": "deployment_request_completed",
}
field_values: dict[str, st.SearchStrategy[Any]] = {
    "name": st.text(max_size=70) | json_values,
    # URLs stay on loopback or are broken: nothing may be delivered elsewhere
    "url": st.sampled_from(["http://127.0.0.1:9/x", "nope", "", "ftp://127.0.0.1/x"]) | json_leaf,
    "object_type": st.sampled_from(["deployment", "pipeline", "model", ""]) | json_leaf,
    "object_name": st.sampled_from(["dep", "pipe", "demo-deployment", "missing"]) | json_leaf,
    "event": st.sampled_from(
        ["deployment_request_failed", "pipeline_request_started", "x_request_failed"]
    )
    | json_leaf,
    "headers": st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "key": st.text(max_size=12) | json_leaf,
                "value": st.none() | st.text(max_size=12) | json_leaf,
                "protected": st.booleans() | json_leaf,
                "extra": json_leaf,
            },
        )
        | json_leaf,
        max_size=3,
    )
    | json_values,
    "description": st.text(max_size=410) | json_leaf,
    "labels": st.dictionaries(st.text(max_size=6), st.text(max_size=6) | json_leaf, max_size=3)
    | json_values,
    "version": st.sampled_from(["v1", "v2", "a", "missing"]) | json_leaf,
    "timeout": st.integers(min_value=-5, max_value=40) | json_leaf,
    "enabled": json_leaf,
    "retry": json_leaf,
    "include_result": json_leaf,
}


@st.composite
def shaped_bodies(draw: st.DrawFn) -> bytes:
    """The right shape with some fields changed, dropped or added."""
    body: dict[str, Any] = dict(BASE)
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True)):
        body[field] = draw(field_values[field])
    for field in draw(st.lists(st.sampled_from(list(BASE)), max_size=2, unique=True)):
        body.pop(field, None)
    body.update(draw(st.dictionaries(st.text(max_size=10), json_leaf, max_size=2)))
    return json.dumps(body).encode()


bodies = st.one_of(
    st.none(),
    shaped_bodies(),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    st.sampled_from([b"", b"{", b"[]", b"null", b'{"name": NaN}', b"\xff\xfe", b"[" * 5000]),
)

odd_segments = st.one_of(
    st.sampled_from(
        ["demo", "p", "missing", "..", ".", "%", "%ZZ", "%00", "a%2Fb", "%2e%2e", "~", "", " "]
    ).map(lambda s: s.replace(" ", "%20")),
    st.text(min_size=1, max_size=20).map(lambda s: quote(s, safe="")),
)
tails = st.one_of(
    st.just("webhooks"),
    st.just("webhooks"),
    st.just("webhooks-tests"),
    st.just("webhooks/fuzz-hook"),
    odd_segments.map(lambda s: f"webhooks/{s}"),
    odd_segments.map(lambda s: f"webhooks-tests/{s}"),
    st.tuples(odd_segments, odd_segments).map(lambda t: f"webhooks/{t[0]}/{t[1]}"),
    odd_segments,
    st.just("webhooks/fuzz-hook"),
)
queries = st.one_of(
    st.just(""),
    st.dictionaries(
        st.sampled_from(["labels", "object_type", "event", "limit", "x"]) | st.text(max_size=6),
        st.text(max_size=20),
        max_size=3,
    ).map(lambda q: "?" + urlencode(q)),
    st.sampled_from(
        ["?", "?&&=", "?labels", "?labels=a:b,,:c", "?labels=a", "?%ZZ=1", "?event=%00"]
    ),
)
known_projects = st.sampled_from(["demo", "p"])
targets = st.builds(
    lambda prefix, project, tail, query: f"{prefix}/projects/{project}/{tail}{query}",
    st.sampled_from(["/v2.1"] * 5 + ["/v2", "/v2", "/v3", "", "/v2.1/"]),
    st.one_of(known_projects, known_projects, known_projects, odd_segments),
    tails,
    queries,
)
methods = st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS", "HEAD"])
auths = st.sampled_from([AUTH, AUTH, AUTH, TOKEN, "Token wrong", "Token ", "", None])
content_types = st.sampled_from([None, "application/json", "text/plain", "application/x-www-form"])


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=methods,
    target=targets,
    body=bodies,
    auth=auths,
    content_type=content_types,
)
def test_fuzzed_requests_never_cause_a_500(
    emulator: EmulatorThread,
    method: str,
    target: str,
    body: bytes | None,
    auth: str | None,
    content_type: str | None,
) -> None:
    headers: dict[str, str] = {}
    if auth is not None:
        headers["Authorization"] = auth
    if content_type is not None:
        headers["Content-Type"] = content_type
    status, answered_type, raw = send(emulator, method, target, body, headers)
    check_answer(method, status, answered_type, raw)
    assert emulator.emulator.stats.server_errors == 0


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    target=st.sampled_from(
        [
            ("POST", "/v2.1/projects/p/webhooks"),
            ("POST", "/v2.1/projects/p/webhooks-tests"),
            ("PATCH", "/v2.1/projects/p/webhooks/fuzz-hook"),
            ("POST", "/v2/projects/demo/webhooks"),
        ]
    ),
    body=shaped_bodies(),
)
def test_fuzzed_bodies_on_the_write_routes(
    emulator: EmulatorThread, target: tuple[str, str], body: bytes
) -> None:
    """Bodies close to valid ones reach deep into the rules; refusals name what is wrong."""
    method, path = target
    status, content_type, raw = send(
        emulator, method, path, body, {"Authorization": AUTH, "Content-Type": "application/json"}
    )
    check_answer(method, status, content_type, raw)
    assert status in (200, 201, 400, 404, 409), raw[:200]
    assert emulator.emulator.stats.server_errors == 0


def test_after_the_fuzzing_the_store_still_reads_back(emulator: EmulatorThread) -> None:
    for project in ("demo", "p"):
        status, _, raw = send(
            emulator, "GET", f"/v2.1/projects/{project}/webhooks", headers={"Authorization": AUTH}
        )
        assert status == 200
        listed = json.loads(raw)
        assert len({hook["name"] for hook in listed}) == len(listed)
        assert [hook["name"] for hook in listed] == [
            w.name for w in emulator.emulator.webhooks(project)
        ]
        for hook in listed:
            for header in hook["headers"]:
                if header["protected"]:
                    assert header["value"] is None
    assert emulator.emulator.stats.server_errors == 0


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("FOO", "/v2.1/projects/demo/webhooks"),
        ("GET", "/v2.1/projects/demo/webhooks/" + "a" * 9000),
        ("GET", "/v2.1/projects/demo/webhooks?labels=" + "a:b," * 3000),
    ],
    ids=["unknown method", "long path", "long query"],
)
def test_requests_the_http_parser_refuses_are_4xx_and_harmless(
    emulator: EmulatorThread, method: str, target: str
) -> None:
    """aiohttp's parser answers these itself (a plain-text 400) before any route runs."""
    status, _, _ = send(emulator, method, target, headers={"Authorization": AUTH})
    assert 400 <= status < 500
    status, _, _ = send(
        emulator, "GET", "/v2.1/projects/demo/webhooks", headers={"Authorization": AUTH}
    )
    assert status == 200
    assert emulator.emulator.stats.server_errors == 0
