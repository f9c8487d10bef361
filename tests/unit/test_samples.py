"""The client's wire layer against the recorded samples of the documented API.

``tests/samples/`` keeps the request and answer examples of the API reference and the
delivery payloads of the UbiOps docs, each saying where it comes from. Here the
client's readers must take every documented answer and carry each documented value
into the model unchanged (written back, the documented keys come out equal), its
writers must send every documented request field as documented, and the receiver's
reader must type every key of a documented delivery.
``tests/integration/test_emulator_samples.py`` holds the emulator to the same samples.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from _emulator_helpers import SAMPLES, Sample, load_samples, shape_differences
from multidict import CIMultiDict, CIMultiDictProxy

from aioubiwebhooks._delivery_check import parse_delivery
from aioubiwebhooks._wire import (
    create_json,
    decode_webhooks,
    update_json,
    webhook_from_json,
    webhook_json,
    webhook_test_create_json,
    webhook_test_from_json,
    webhook_test_json,
    webhooks_from_json,
)
from aioubiwebhooks.models import WebhookCreate, WebhookTestCreate, WebhookUpdate

WEBHOOK_ANSWERS = [
    s
    for s in load_samples()
    if s.operation in ("webhooks_create", "webhooks_get", "webhooks_update")
]
TEST_ANSWERS = [s for s in load_samples() if s.operation.startswith("webhook_tests_")]
A_URL = "https://example.org/hook"
"""Stands in for the documented url, a link that did not survive the copy of the page."""


def _ids(samples: list[Sample]) -> list[str]:
    return [s.name for s in samples]


def test_every_sample_says_where_it_comes_from() -> None:
    files = sorted(SAMPLES.glob("*.json"))
    assert len(files) == len(load_samples()) >= 11
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert {"source", "notes", "operation", "request", "response"} <= set(data), path.name
        assert "UbiOps" in data["source"], path.name


def _written_back(body: dict[str, Any], decoded_json: dict[str, Any]) -> dict[str, Any]:
    return {key: decoded_json[key] for key in body}


@pytest.mark.parametrize("sample", WEBHOOK_ANSWERS, ids=_ids(WEBHOOK_ANSWERS))
def test_a_documented_webhook_reads_back_unchanged(sample: Sample) -> None:
    decoded = webhook_from_json(sample.body)
    written = webhook_json(decoded, reveal=True)
    assert _written_back(sample.body, written) == sample.body
    assert set(written) - set(sample.body) <= set(sample.undocumented_keys)


def test_the_documented_list_reads_back_unchanged() -> None:
    (sample,) = load_samples("webhooks_list")
    raw = json.dumps(sample.body).encode()
    for decoded in (webhooks_from_json(sample.body), decode_webhooks(raw)):
        written = [webhook_json(w, reveal=True) for w in decoded]
        assert [
            _written_back(b, w) for b, w in zip(sample.body, written, strict=True)
        ] == sample.body
        assert len(written) == len(sample.body)


@pytest.mark.parametrize("sample", TEST_ANSWERS, ids=_ids(TEST_ANSWERS))
def test_a_documented_webhook_test_reads_back_unchanged(sample: Sample) -> None:
    assert webhook_test_json(webhook_test_from_json(sample.body)) == sample.body


def _sent_as_documented(documented: dict[str, Any], sent: dict[str, Any]) -> None:
    missing = {k: v for k, v in documented.items() if sent.get(k, object()) != v}
    assert not missing, f"written otherwise than documented: {missing} in {sent}"


def test_the_documented_create_request_is_written_as_documented() -> None:
    (sample,) = load_samples("webhooks_create")
    assert sample.request is not None
    documented = {**sample.request["body"], "url": A_URL}
    _sent_as_documented(documented, create_json(WebhookCreate.from_dict(documented)))


def test_the_documented_update_request_is_written_as_documented() -> None:
    (sample,) = load_samples("webhooks_update")
    assert sample.request is not None
    documented = sample.request["body"]
    sent = update_json(WebhookUpdate.from_dict(documented))
    assert sent == documented  # an update sends only what it changes


def test_the_documented_test_request_is_written_as_documented() -> None:
    (sample,) = load_samples("webhook_tests_create")
    assert sample.request is not None
    documented = {**sample.request["body"], "url": A_URL}
    _sent_as_documented(
        documented, webhook_test_create_json(WebhookTestCreate.from_dict(documented))
    )


@pytest.mark.parametrize("sample", load_samples("delivery"), ids=lambda s: s.name)
def test_a_documented_delivery_is_read_with_every_key_typed(sample: Sample) -> None:
    body = sample.body
    event = parse_delivery(
        json.dumps(body).encode(),
        headers=CIMultiDictProxy(CIMultiDict()),
        received_at=datetime.now(timezone.utc),
    )
    prefix = str(event.object_type)
    assert event.event_name == body["event"]
    assert (event.object_id, event.object_name) == (body[f"{prefix}_id"], body[f"{prefix}_name"])
    assert (event.version_id, event.version_name) == (
        body[f"{prefix}_version_id"],
        body[f"{prefix}_version_name"],
    )
    assert (event.request_id, event.status, event.text) == (
        body["request_id"],
        body["status"],
        body["text"],
    )
    assert event.extra == {}  # every documented key has its field
    assert not event.has_result


def test_shape_differences_sees_keys_and_types() -> None:
    documented = {"a": 1, "b": [{"k": "v"}], "labels": {"x": "y"}, "c": None}
    assert shape_differences(documented, {"a": 2, "b": [], "labels": {}, "c": None}) == []
    assert shape_differences(documented, {**documented, "labels": {"other": "z"}}) == []
    assert shape_differences(documented, {"a": 1, "b": [], "labels": {}}) == [
        "$: keys missing: ['c']"
    ]
    assert shape_differences(documented, {**documented, "d": 1}) == [
        "$: keys not documented: ['d']"
    ]
    assert shape_differences(documented, {**documented, "a": "1"}) == [
        "$.a: ['string'] where the sample has ['number']"
    ]
    assert shape_differences(documented, {**documented, "b": [{"k": None}]}) == [
        "$.b[].k: ['null'] where the sample has ['string']"
    ]
    assert (
        shape_differences(
            documented, {**documented, "b": [{"k": None}]}, also={"$.b[].k": {"null"}}
        )
        == []
    )
    extra = {"d": {"type": "string", "source": "elsewhere"}}
    assert shape_differences(documented, {**documented, "d": "t"}, undocumented=extra) == []
    assert shape_differences(documented, {**documented, "d": 5}, undocumented=extra) == [
        "$.d: ['number'] where the sample has ['string']"
    ]
