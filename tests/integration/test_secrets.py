"""Secret hygiene: the token and protected header values never reach a repr, a log
record (DEBUG included), an exception message or an export file, along every code
path that handles them; TLS is verified by default; the receiver stays on loopback
and compares its secret in constant time.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web
from conftest import webhook_spec

from aioubiwebhooks import (
    ApiConnectionError,
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    RedirectError,
    TlsError,
    ValidationError,
    WebhookCreate,
    WebhookHeader,
    WebhooksSession,
    WebhookTestCreate,
    WebhookUpdate,
    _wire,
)
from aioubiwebhooks.emulator import Emulator
from aioubiwebhooks.events import event_to_json
from aioubiwebhooks.migrate import SpecFormat, apply, dump_specs, export, plan
from aioubiwebhooks.receiver import WebhookReceiver

pytestmark = pytest.mark.timeout(60)

TOKEN = "tok-8c1f-secret-TOKEN"
WRONG_TOKEN = "tok-0000-secret-WRONG"
RX_SECRET = "Token rx-5d2e-secret-RECEIVER"
HEADER_SECRET = "hv-77aa-secret-HEADER"
ROTATED_SECRET = "hv-9b9b-secret-ROTATED"
ENV_SECRET = "env-3c3c-secret-FROM-ENV"
SECRETS = (TOKEN, WRONG_TOKEN, RX_SECRET, HEADER_SECRET, ROTATED_SECRET, ENV_SECRET)
# a leak of the distinctive part counts too (e.g. without its "Token " prefix)
FORMATS: tuple[SpecFormat, ...] = ("json", "yaml")
NEEDLES = tuple({part for s in SECRETS for part in (s, s.split()[-1], s[-14:])})


def leaks(text: str) -> list[str]:
    return [needle for needle in NEEDLES if needle in text]


def exception_texts(error: BaseException) -> Iterator[str]:
    """str and repr of an exception and of every exception chained to it."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        if isinstance(current, ApiError):
            yield current.message
            yield current.body
        current = current.__cause__ or current.__context__


class Scan:
    """Collects every text that could carry a secret, then checks them all at once."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, *objects: object) -> None:
        for obj in objects:
            if isinstance(obj, BaseException):
                self.texts.extend((where, text) for text in exception_texts(obj))
            else:
                self.texts.append((where, str(obj)))
                self.texts.append((where, repr(obj)))

    def add_records(self, records: Iterable[logging.LogRecord]) -> None:
        for record in records:
            where = f"log {record.name}"
            self.texts.append((where, record.getMessage()))
            self.texts.append((where, repr(record.args)))
            if record.exc_info and record.exc_info[1] is not None:
                self.add(where, record.exc_info[1])
            if record.exc_text:
                self.texts.append((where, record.exc_text))

    def assert_clean(self) -> None:
        found = [(where, leaks(text), text[:200]) for where, text in self.texts if leaks(text)]
        assert found == []


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="aioubiwebhooks")
    return caplog


@pytest.fixture
async def secured() -> AsyncIterator[Emulator]:
    async with Emulator(token=TOKEN) as emu:
        yield emu


def protected(key: str, value: str | None) -> dict[str, Any]:
    return {"key": key, "value": value, "protected": True}


# --- the whole client path, end to end --------------------------------------------------------


async def test_no_secret_escapes_along_any_client_path(
    secured: Emulator, debug_logs: pytest.LogCaptureFixture
) -> None:
    scan = Scan()
    headers = [
        protected("Authorization", RX_SECRET),
        protected("X-Api-Key", HEADER_SECRET),
        {"key": "X-Plain", "value": "visible", "protected": False},
    ]
    async with (
        WebhookReceiver(secret=RX_SECRET) as receiver,
        WebhooksSession(TOKEN, secured.url) as session,
    ):
        scan.add("session", session, session._transport, session.pacer)
        spec = WebhookCreate.from_dict(
            webhook_spec("secret-hook", url=receiver.url, headers=headers)
        )
        created = await session.webhooks_create("demo", spec)
        assert [h.value for h in created.headers] == [None, None, "visible"]
        stored = secured.webhook("demo", "secret-hook")
        assert [h.value for h in stored.headers][:2] == [RX_SECRET, HEADER_SECRET]
        scan.add(
            "models",
            spec,
            created,
            spec.headers,
            _wire.to_body(_wire.webhook_json(created, reveal=True)),
        )
        scan.add("get", await session.webhooks_get("demo", "secret-hook"))
        scan.add("list", await session.webhooks_list("demo"))

        keep = WebhookUpdate(
            headers=(
                WebhookHeader("Authorization", None, protected=True),
                WebhookHeader("X-Api-Key", ROTATED_SECRET, protected=True),
            ),
            description="rotated",
        )
        scan.add("update", keep, await session.webhooks_update("demo", "secret-hook", keep))
        assert [h.value for h in secured.webhook("demo", "secret-hook").headers] == [
            RX_SECRET,
            ROTATED_SECRET,
        ]

        # a whole check: the test carries the protected values to the receiver
        done = await session.check_webhook(
            "demo",
            "secret-hook",
            protected_values={"Authorization": RX_SECRET, "X-Api-Key": ROTATED_SECRET},
            timeout=20,
        )
        assert done.status.value == "completed", done
        event = await receiver.wait_for(timeout=10)
        assert event.headers["X-Api-Key"] == ROTATED_SECRET  # the receiver's own data
        assert event.headers["Authorization"] != RX_SECRET
        scan.add("receiver", receiver, event, receiver.events, receiver.stats, event_to_json(event))
        scan.add("test", done)

        test_spec = WebhookTestCreate.from_dict(
            {
                k: v
                for k, v in webhook_spec("x", url=receiver.url, headers=headers).items()
                if k != "name"
            }
        )
        scan.add("test spec", test_spec, await session.webhook_tests_create("demo", test_spec))

        bulk_specs = [
            webhook_spec(f"bulk-{n}", url=receiver.url, headers=headers) for n in range(3)
        ]
        created_outcomes = await session.bulk_create("demo", bulk_specs)
        assert all(o.ok for o in created_outcomes)
        again = await session.bulk_create("demo", bulk_specs)  # every one a conflict
        assert all(isinstance(o.error, ConflictError) for o in again)
        tested = await session.bulk_test("demo", [test_spec, test_spec], timeout=20)
        assert all(o.ok for o in tested)
        updated = await session.bulk_update("demo", {"bulk-0": keep, "missing": keep})
        scan.add("bulk", created_outcomes, again, tested, updated, [o.error for o in again])

        # error answers along the way
        errors: list[BaseException] = []
        with pytest.raises(ConflictError) as conflict:
            await session.webhooks_create("demo", spec)
        errors.append(conflict.value)
        with pytest.raises(NotFoundError) as missing:
            await session.webhooks_update("demo", "nope", keep)
        errors.append(missing.value)
        with pytest.raises(BadRequestError) as refused:
            await session.webhooks_update(
                "demo", "secret-hook", {"headers": [protected("X-Not-Stored", None)]}
            )
        errors.append(refused.value)
        with pytest.raises(ValidationError) as invalid:
            WebhookCreate.from_dict(webhook_spec("", headers=headers))
        errors.append(invalid.value)
        with pytest.raises(ValidationError) as invalid_header:
            WebhookCreate.from_dict(
                webhook_spec("h", headers=[{"key": "", "value": HEADER_SECRET, "protected": True}])
            )
        errors.append(invalid_header.value)
        with pytest.raises(ValidationError) as no_value:
            WebhookCreate.from_dict(webhook_spec("h", headers=[protected("X-Api-Key", None)]))
        errors.append(no_value.value)
        scan.add("errors", *errors)
        await session.webhooks_delete("demo", "secret-hook")

    async with WebhooksSession(WRONG_TOKEN, secured.url) as intruder:
        with pytest.raises(AuthenticationError) as denied:
            await intruder.webhooks_list("demo")
        assert denied.value.status == 401
        scan.add("401", denied.value, intruder)
        with pytest.raises(AuthenticationError) as denied_create:
            await intruder.webhooks_create("demo", spec)
        scan.add("401 create", denied_create.value)

    scan.add("emulator", secured.deliveries, secured.stats.snapshot())
    scan.add_records(debug_logs.records)
    transport_lines = [r for r in debug_logs.records if r.name == "aioubiwebhooks"]
    assert any("/projects/demo/webhooks" in r.getMessage() for r in transport_lines)
    assert any(r.levelno == logging.DEBUG for r in transport_lines)
    scan.assert_clean()
    assert leaks(debug_logs.text) == []


async def test_retries_and_failures_under_faults_leak_nothing(
    secured: Emulator, debug_logs: pytest.LogCaptureFixture
) -> None:
    scan = Scan()
    spec = webhook_spec("faulty", headers=[protected("Authorization", HEADER_SECRET)])
    async with WebhooksSession(TOKEN, secured.url, max_retries=2, timeout=2) as session:
        secured.faults.fail_next(1, status=503)
        secured.faults.drop_next(1)
        created = await session.webhooks_create("demo", spec)
        secured.faults.fail_next(10, status=500)
        with pytest.raises(ApiError) as failed:
            await session.webhooks_get("demo", "faulty")
        secured.faults.drop_next(10)
        with pytest.raises(ApiConnectionError) as dropped:
            await session.webhooks_update("demo", "faulty", {"headers": [spec["headers"][0]]})
        secured.faults.clear()
        scan.add("faults", created, failed.value, dropped.value)
    scan.add_records(debug_logs.records)
    scan.assert_clean()


async def test_export_files_plans_and_apply_results_hold_no_secret(
    secured: Emulator, tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    scan = Scan()
    async with WebhooksSession(TOKEN, secured.url) as session:
        await session.webhooks_create(
            "demo", webhook_spec("exported", headers=[protected("Authorization", HEADER_SECRET)])
        )
        exported = await export(session, "demo")
        assert exported[0]["headers"] == [protected("Authorization", None)]
        for fmt in FORMATS:
            path = tmp_path / f"hooks.{fmt}"
            path.write_text(dump_specs(exported, format=fmt), encoding="utf-8")
            scan.texts.append((f"export {fmt}", path.read_text(encoding="utf-8")))
        # desired specs with literal secrets and ${VAR} references: files keep only references
        desired = [
            webhook_spec("exported", headers=[protected("Authorization", ROTATED_SECRET)]),
            webhook_spec("from-env", headers=[protected("Authorization", "${HOOK_TOKEN}")]),
        ]
        for fmt in FORMATS:
            text = dump_specs(desired, format=fmt)
            assert "${HOOK_TOKEN}" in text
            scan.texts.append((f"dump {fmt}", text))
        the_plan = await plan(session, "demo", desired, environ={"HOOK_TOKEN": ENV_SECRET})
        assert the_plan.creates
        assert the_plan.updates
        scan.add("plan", the_plan, the_plan.summary(), json.dumps(the_plan.to_dict()))
        result = await apply(session, the_plan)
        assert result.ok, result.summary()
        assert [h.value for h in secured.webhook("demo", "from-env").headers] == [ENV_SECRET]
        assert [h.value for h in secured.webhook("demo", "exported").headers] == [ROTATED_SECRET]
        scan.add("apply", result, result.summary(), result.outcomes)
        for fmt in FORMATS:
            scan.texts.append((f"re-export {fmt}", dump_specs(await export(session, "demo"), fmt)))
    scan.add_records(debug_logs.records)
    scan.assert_clean()


# --- gaps found: each names the fix it waits for ----------------------------------------------


def test_a_protected_value_of_the_wrong_type_is_not_shown() -> None:
    secret = HEADER_SECRET.encode()
    with pytest.raises(ValidationError) as caught:
        WebhookHeader("Authorization", secret, protected=True)  # type: ignore[arg-type]
    assert caught.value.field == "value"
    assert leaks(str(caught.value)) == []
    assert leaks(repr(caught.value)) == []
    assert caught.value.value is None


def test_a_mistyped_value_key_of_a_protected_header_is_not_shown() -> None:
    with pytest.raises(ValidationError) as caught:
        WebhookCreate.from_dict(
            webhook_spec("h", headers=[{"key": "X", "Value": HEADER_SECRET, "protected": True}])
        )
    assert "Value" in caught.value.field
    assert leaks(str(caught.value)) == []


class RawAnswer:
    """A loopback server answering every request with fixed raw bytes."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(self.answer)
        await writer.drain()
        writer.close()


async def test_a_garbled_answer_does_not_chain_the_request_headers() -> None:
    raw = RawAnswer(b"HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\n{}")
    server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with WebhooksSession(TOKEN, f"http://127.0.0.1:{port}/v2.1", max_retries=0) as s:
            with pytest.raises(ApiConnectionError) as caught:
                await s.webhooks_list("demo")
    finally:
        server.close()
        await server.wait_closed()
    assert leaks(str(caught.value)) == []
    assert [text for text in exception_texts(caught.value) if leaks(text)] == []


# --- where the token may travel ---------------------------------------------------------------


async def test_a_redirect_to_another_origin_is_not_followed() -> None:
    received: list[dict[str, str]] = []

    async def elsewhere(request: web.Request) -> web.Response:
        received.append(dict(request.headers))
        return web.json_response([])

    other = web.Application()
    other.router.add_get("/{tail:.*}", elsewhere)
    other_runner = web.AppRunner(other)
    await other_runner.setup()
    await web.TCPSite(other_runner, "127.0.0.1", 0).start()
    other_port = other_runner.addresses[0][1]

    async def bounce(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://localhost:{other_port}{request.path}")

    api = web.Application()
    api.router.add_get("/{tail:.*}", bounce)
    api_runner = web.AppRunner(api)
    await api_runner.setup()
    await web.TCPSite(api_runner, "127.0.0.1", 0).start()
    api_port = api_runner.addresses[0][1]
    try:
        async with WebhooksSession(TOKEN, f"http://127.0.0.1:{api_port}/v2.1") as session:
            with pytest.raises(RedirectError) as caught:
                await session.webhooks_list("demo")
    finally:
        await api_runner.cleanup()
        await other_runner.cleanup()
    assert received == []  # neither the token nor anything else went there
    assert caught.value.status == 302
    assert caught.value.location == f"http://localhost:{other_port}/v2.1/projects/demo/webhooks"
    assert leaks(json.dumps(received)) == []


# --- TLS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_emulator(certificate_authority: trustme.CA) -> AsyncIterator[str]:
    """The emulator's app served over https with a certificate from an unknown CA."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    emulator = Emulator(token=TOKEN)
    runner = web.AppRunner(emulator.app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context).start()
    try:
        yield f"https://127.0.0.1:{runner.addresses[0][1]}/v2.1"
    finally:
        await runner.cleanup()


async def test_tls_is_verified_by_default(
    tls_emulator: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    assert inspect.signature(WebhooksSession).parameters["verify_tls"].default is True
    async with WebhooksSession(TOKEN, tls_emulator, max_retries=2) as session:
        with pytest.raises(ApiConnectionError) as caught:
            await session.webhooks_list("demo")
    error = caught.value
    assert type(error) is TlsError
    assert not error.sent
    assert "certificate" in str(error).lower()
    assert error.path == "/projects/demo/webhooks"
    scan = Scan()
    scan.add("tls", error)
    scan.add_records(debug_logs.records)
    scan.assert_clean()
    # the refusal is not repeated: a certificate does not get better by asking again
    attempts = [r for r in debug_logs.records if "/projects/demo/webhooks" in r.getMessage()]
    assert len(attempts) == 1


async def test_tls_verification_can_be_turned_off(tls_emulator: str) -> None:
    async with WebhooksSession(TOKEN, tls_emulator, verify_tls=False) as session:
        assert await session.webhooks_list("demo") == []


async def test_a_trusted_certificate_passes_verification(
    tls_emulator: str, certificate_authority: trustme.CA
) -> None:
    """The control case: with the CA trusted, the same server is accepted."""
    trusting = ssl.create_default_context()
    certificate_authority.configure_trust(trusting)
    connector = aiohttp.TCPConnector(ssl=trusting)
    async with (
        aiohttp.ClientSession(connector=connector) as own,
        WebhooksSession(TOKEN, tls_emulator, client_session=own) as session,
    ):
        assert await session.webhooks_list("demo") == []


# --- the receiver -----------------------------------------------------------------------------


def _other_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses (none in a bare sandbox)."""
    found: set[str] = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(str(info[4][0]))
    except OSError:
        pass
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
        found.add(probe.getsockname()[0])
    except OSError:
        pass
    finally:
        probe.close()
    return sorted(a for a in found if not a.startswith("127.") and a != "0.0.0.0")


async def test_receiver_binds_to_loopback_only_by_default() -> None:
    assert inspect.signature(WebhookReceiver).parameters["host"].default == "127.0.0.1"
    async with WebhookReceiver() as receiver:
        runner = receiver._runner
        assert runner is not None
        bound = [address[0] for address in runner.addresses]
        assert bound
        assert all(address.startswith("127.") for address in bound)
        for address in _other_addresses():
            with pytest.raises((ConnectionRefusedError, TimeoutError)):
                socket.create_connection((address, receiver.port), timeout=1).close()


async def test_receiver_compares_the_secret_in_constant_time(
    monkeypatch: pytest.MonkeyPatch, debug_logs: pytest.LogCaptureFixture
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    original: Callable[..., bool] = hmac.compare_digest

    def spy(given: Any, expected: Any) -> bool:
        calls.append((given, expected))
        return original(given, expected)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    body = {
        "event": "deployment_request_completed",
        "deployment_id": "i",
        "deployment_name": "d",
        "deployment_version_id": "vi",
        "deployment_version_name": "v1",
        "request_id": "r-1",
        "status": "completed",
        "text": "done",
    }
    async with WebhookReceiver(secret=RX_SECRET) as receiver, aiohttp.ClientSession() as http:
        for given, status in ((RX_SECRET, 200), (RX_SECRET[:-1], 401), (RX_SECRET + "x", 401)):
            async with http.post(
                receiver.url, json=body, headers={"Authorization": given}
            ) as answer:
                assert answer.status == status
                assert leaks(await answer.text()) == []
        assert leaks(repr(receiver)) == []
        assert leaks(repr(receiver.events)) == []
    assert [expected for _, expected in calls] == [RX_SECRET.encode()] * 3
    assert [given for given, _ in calls] == [
        RX_SECRET.encode(),
        RX_SECRET[:-1].encode(),
        (RX_SECRET + "x").encode(),
    ]
    assert leaks(debug_logs.text) == []


async def test_a_private_ca_can_be_trusted_through_verify_tls(
    tls_emulator: str, certificate_authority: trustme.CA
) -> None:
    trusting = ssl.create_default_context()
    certificate_authority.configure_trust(trusting)
    async with WebhooksSession(TOKEN, tls_emulator, verify_tls=trusting) as session:
        assert await session.webhooks_list("demo") == []
