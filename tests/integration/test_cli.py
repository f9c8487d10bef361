"""The command line through its entry point ``main(argv)``, against an emulator in a thread.

The emulator runs on its own loop in a background thread, so ``main`` (which calls
``asyncio.run``) is called straight from the test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from aioubiwebhooks.cli import main
from aioubiwebhooks.emulator import EmulatorThread

pytestmark = pytest.mark.timeout(60)

TOKEN = "cli-test-token-7f3a"
SECRET = "protected-value-93e1"

COMMANDS = [
    "list", "get", "create", "update", "delete", "test", "listen",
    "export", "plan", "apply", "copy", "emulator", "demo",
]  # fmt: skip


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorThread]:
    with EmulatorThread(token=TOKEN) as emulator:
        monkeypatch.setenv("UBIOPS_API_HOST", emulator.url)
        monkeypatch.setenv("UBIOPS_API_TOKEN", TOKEN)
        yield emulator


class Run:
    """One finished command: exit status and what it printed."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*argv: str) -> Run:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def hook_flags(name: str, **changes: str) -> list[str]:
    flags = {
        "name": name,
        "url": "https://example.org/hook",
        "object-type": "deployment",
        "object-name": "demo-deployment",
        "event": "deployment_request_completed",
        **changes,
    }
    return [item for key, value in flags.items() for item in (f"--{key}", value)]


def spec(name: str, **changes: Any) -> dict[str, Any]:
    data = {
        "name": name,
        "url": "https://example.org/hook",
        "object_type": "deployment",
        "object_name": "demo-deployment",
        "event": "deployment_request_completed",
    }
    data.update(changes)
    return data


# --- help and usage ------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(cli: Any, command: str) -> None:
    result = cli(command, "--help")
    assert result.code == 0
    assert f"usage: aioubiwebhooks {command}" in result.out


def test_main_help_lists_every_command(cli: Any) -> None:
    result = cli("--help")
    assert result.code == 0
    for command in COMMANDS:
        assert command in result.out


def test_no_command_is_a_usage_error(cli: Any) -> None:
    result = cli()
    assert result.code == 2
    assert "a command is required" in result.err


def test_unknown_flag_is_a_usage_error(cli: Any) -> None:
    assert cli("list", "demo", "--frobnicate").code == 2


# --- list, get, create ---------------------------------------------------------------------


def test_list_empty_project_as_json(cli: Any, emu: EmulatorThread) -> None:
    result = cli("list", "demo", "--json")
    assert result.code == 0
    assert result.json() == {"project": "demo", "webhooks": []}


def test_create_from_flags_then_get_and_list(cli: Any, emu: EmulatorThread) -> None:
    created = cli(
        "create", "demo", *hook_flags("h1"), "--label", "env=prod", "--header", "X-A=1",
        "--protected-header", f"Authorization={SECRET}", "--timeout", "12", "--json",
    )  # fmt: skip
    assert created.code == 0, created.err
    doc = created.json()
    assert doc["ok"] is True
    assert doc["counts"] == {"created": 1}
    assert doc["items"][0]["name"] == "h1"
    assert doc["items"][0]["webhook"]["timeout"] == 12

    got = cli("get", "demo", "h1", "--json")
    assert got.code == 0
    hook = got.json()
    assert hook["labels"] == {"env": "prod"}
    assert hook["headers"] == [
        {"key": "X-A", "value": "1", "protected": False},
        {"key": "Authorization", "value": None, "protected": True},
    ] or hook["headers"] == [
        {"key": "Authorization", "value": None, "protected": True},
        {"key": "X-A", "value": "1", "protected": False},
    ]
    stored = emu.emulator.webhook("demo", "h1")
    assert {h.key: h.value for h in stored.headers}["Authorization"] == SECRET

    listed = cli("list", "demo")
    assert listed.code == 0
    lines = listed.out.splitlines()
    assert lines[0].split() == ["NAME", "OBJECT", "EVENT", "ENABLED", "LABELS", "URL"]
    assert lines[1].split()[:2] == ["h1", "deployment/demo-deployment"]
    assert lines[0].index("EVENT") == lines[1].index("deployment_request_completed")


def test_list_filters(cli: Any, emu: EmulatorThread) -> None:
    assert cli("create", "demo", *hook_flags("a"), "--label", "team=x").code == 0
    assert cli("create", "demo", *hook_flags("b", event="deployment_request_failed")).code == 0
    by_label = cli("list", "demo", "--labels", "team:x", "--json").json()
    assert [h["name"] for h in by_label["webhooks"]] == ["a"]
    by_event = cli("list", "demo", "--event", "deployment_request_failed", "--json").json()
    assert [h["name"] for h in by_event["webhooks"]] == ["b"]
    assert cli("list", "demo", "--labels", "nocolon").code == 2


def test_create_many_from_a_yaml_file(cli: Any, emu: EmulatorThread, tmp_path: Path) -> None:
    path = tmp_path / "hooks.yaml"
    path.write_text(yaml.safe_dump([spec(f"hook-{i}") for i in range(12)]))
    result = cli("create", "demo", "--file", str(path), "--concurrency", "4")
    assert result.code == 0, result.err
    assert result.out.strip() == "create: created 12 (of 12)"
    assert result.err == ""  # no progress bar when stderr is not a terminal
    assert len(emu.emulator.webhooks("demo")) == 12

    again = cli("create", "demo", "--file", str(path), "--json")
    assert again.code == 1
    assert again.json()["counts"] == {"failed": 12}
    assert "error: 12 of 12 failed:" in again.err
    assert "ConflictError" in again.err

    before = emu.emulator.stats.total_requests
    skipped = cli("create", "demo", "--file", str(path), "--on-conflict", "skip", "--json")
    assert skipped.code == 0
    assert skipped.json()["counts"] == {"exists": 12}
    assert emu.emulator.stats.total_requests == before + 1  # one list call decides them all


def test_create_from_a_json_file_with_one_spec(
    cli: Any, emu: EmulatorThread, tmp_path: Path
) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(spec("solo", description="just one")))
    result = cli("create", "demo", "-f", str(path))
    assert result.code == 0
    assert result.out.strip() == "create solo: created"
    assert emu.emulator.webhook("demo", "solo").description == "just one"


def test_create_update_on_conflict_reports_applied(
    cli: Any, emu: EmulatorThread, tmp_path: Path
) -> None:
    assert cli("create", "demo", *hook_flags("h")).code == 0
    result = cli("create", "demo", *hook_flags("h", url="https://example.org/new"),
                 "--on-conflict", "update", "--json")  # fmt: skip
    assert result.code == 0
    assert result.json()["counts"] == {"applied": 1}
    assert emu.emulator.webhook("demo", "h").url == "https://example.org/new"


# --- bad input: exit 2 before any request --------------------------------------------------


def test_invalid_spec_file_names_the_field(cli: Any, emu: EmulatorThread, tmp_path: Path) -> None:
    path = tmp_path / "hooks.json"
    path.write_text(json.dumps([spec("ok"), spec("bad", timeout=99)]))
    result = cli("create", "demo", "--file", str(path), "--json")
    assert result.code == 2
    assert "hooks.json[1].timeout" in result.err
    assert "at most 30 seconds" in result.err
    assert result.json()["error"]["field"] == "hooks.json[1].timeout"
    assert emu.emulator.stats.total_requests == 0


def test_every_invalid_spec_in_a_file_is_reported(
    cli: Any, emu: EmulatorThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = [spec(f"hook-{i:03d}") for i in range(100)]
    specs[3]["timeout"] = 99
    specs[50]["url"] = "ftp://example.org"
    specs[97]["enabled"] = "yes"
    path = tmp_path / "hooks.yaml"
    path.write_text(yaml.safe_dump(specs))
    result = cli("create", "demo", "--file", str(path), "--json")
    assert result.code == 2
    assert result.err.splitlines() == [
        "error: ValidationError: 3 of 100 specs in hooks.yaml are invalid:",
        "  hooks.yaml[3].timeout (webhook 'hook-003'): must be at most 30 seconds (got 99)",
        "  hooks.yaml[50].url (webhook 'hook-050'): must be an absolute http(s) URL "
        "(got 'ftp://example.org')",
        "  hooks.yaml[97].enabled (webhook 'hook-097'): must be true or false (got 'yes')",
    ]
    problems = result.json()["error"]["problems"]
    assert [(p["field"], p["webhook"]) for p in problems] == [
        ("hooks.yaml[3].timeout", "hook-003"),
        ("hooks.yaml[50].url", "hook-050"),
        ("hooks.yaml[97].enabled", "hook-097"),
    ]

    # Protected values that are not set: every one, with the variable to set.
    monkeypatch.delenv("TOKEN_A", raising=False)
    monkeypatch.delenv("TOKEN_B", raising=False)
    headers = [{"key": "Authorization", "value": "${TOKEN_A}", "protected": True}]
    secrets = [
        spec("a", headers=headers),
        spec("b", headers=[{**headers[0], "value": "${TOKEN_B}"}]),
    ]
    path.write_text(yaml.safe_dump(secrets))
    result = cli("create", "demo", "--file", str(path))
    assert result.code == 2
    assert "2 of 2 specs in hooks.yaml lack protected values" in result.err
    assert "variable TOKEN_A not set" in result.err
    assert "variable TOKEN_B not set" in result.err
    assert emu.emulator.stats.total_requests == 0


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (hook_flags("x", event="pipeline_request_failed"), "event: must start with 'deployment_'"),
        (hook_flags("x", url="ftp://example.org"), "url: must be an absolute http(s) URL"),
        ([*hook_flags("x"), "--timeout", "31"], "timeout: must be at most 30 seconds"),
        (["--name", "x", "--url", "https://example.org"], "is required"),
        ([*hook_flags("x"), "--concurrency", "0"], "--concurrency"),
        ([*hook_flags("x"), "--header", "no-equals-sign"], "expected KEY=VALUE"),
        ([*hook_flags("x"), "--label", "a=1", "--label", "a=2"], "'a' is given twice"),
        ([], "nothing to create"),
    ],
)
def test_bad_flags_exit_2_before_any_request(
    cli: Any, emu: EmulatorThread, argv: list[str], expected: str
) -> None:
    result = cli("create", "demo", *argv)
    assert result.code == 2
    assert expected in result.err
    assert emu.emulator.stats.total_requests == 0


def test_unreadable_spec_file(cli: Any, emu: EmulatorThread, tmp_path: Path) -> None:
    result = cli("create", "demo", "--file", str(tmp_path / "missing.yaml"))
    assert result.code == 2
    assert "cannot read" in result.err
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    result = cli("create", "demo", "--file", str(broken))
    assert result.code == 2
    assert "is not valid JSON" in result.err


def test_missing_token_is_a_usage_error(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UBIOPS_API_TOKEN", raising=False)
    result = cli("list", "demo", "--host", "http://127.0.0.1:9")
    assert result.code == 2
    assert "UBIOPS_API_TOKEN" in result.err


# --- API errors: exit 1 with the typed error -----------------------------------------------


def test_bad_token_reports_authentication_error(cli: Any, emu: EmulatorThread) -> None:
    wrong = "not-the-right-token-1234"
    result = cli("list", "demo", "--token", wrong)
    assert result.code == 1
    assert result.err.startswith("error: AuthenticationError: ")
    assert "401" in result.err
    as_json = cli("list", "demo", "--token", wrong, "--json")
    assert as_json.code == 1
    assert as_json.json()["error"]["type"] == "AuthenticationError"
    assert as_json.json()["error"]["status"] == 401
    for text in (result.out, result.err, as_json.out, as_json.err):
        assert wrong not in text
        assert TOKEN not in text


def test_missing_project_reports_not_found(cli: Any, emu: EmulatorThread) -> None:
    result = cli("list", "no-such-project", "--json")
    assert result.code == 1
    error = result.json()["error"]
    assert error["type"] == "NotFoundError"
    assert error["status"] == 404
    assert "error: NotFoundError:" in result.err
    assert cli("get", "demo", "no-such-hook").code == 1


@pytest.mark.parametrize(("project", "token", "error"), [
    ("demo", "a-wrong-token-5f1e", "AuthenticationError"),
    ("demo-misspelt", TOKEN, "NotFoundError"),
])  # fmt: skip
def test_a_doomed_create_sends_a_request_or_two_not_one_per_spec(
    cli: Any, emu: EmulatorThread, tmp_path: Path, project: str, token: str, error: str
) -> None:
    path = tmp_path / "1000.yaml"
    path.write_text(yaml.safe_dump([spec(f"hook-{i:04d}") for i in range(1000)]))
    result = cli("create", project, "-f", str(path), "--token", token, "--json")
    assert result.code == 1
    doc = result.json()
    assert doc["counts"] == {"failed": 1, "not attempted": 999}
    assert doc["items"][1]["error"]["type"] == "NotAttemptedError"
    assert emu.emulator.stats.total_requests <= 2  # the first create, and a project check
    lines = result.err.splitlines()
    assert lines[0] == "error: 1000 of 1000 failed:"
    assert lines[1].startswith(f"  hook-0000: {error}: ")
    assert lines[2].startswith("  999 not attempted: not started: an earlier answer showed ")
    assert error in lines[2]
    assert len(lines) == 3


def test_unreachable_host_reports_connection_error(cli: Any, emu: EmulatorThread) -> None:
    result = cli("list", "demo", "--host", "http://127.0.0.1:9/v2.1")
    assert result.code == 1
    assert "ApiConnectionError" in result.err


# --- update, delete ------------------------------------------------------------------------


def test_update_changes_only_given_fields(cli: Any, emu: EmulatorThread) -> None:
    assert cli("create", "demo", *hook_flags("u"),
               "--protected-header", f"Authorization={SECRET}").code == 0  # fmt: skip
    result = cli(
        "update", "demo", "u", "--timeout", "25", "--disable",
        "--protected-header", "Authorization", "--header", "X-New=1",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.out.strip() == "updated u: headers, timeout, enabled"
    stored = emu.emulator.webhook("demo", "u")
    assert stored.timeout == 25
    assert stored.enabled is False
    assert {h.key: h.value for h in stored.headers} == {"Authorization": SECRET, "X-New": "1"}
    assert stored.url == "https://example.org/hook"

    renamed = cli("update", "demo", "u", "--new-name", "u2", "--json")
    assert renamed.code == 0
    assert renamed.json()["name"] == "u2"


def test_update_without_fields_is_a_usage_error(cli: Any, emu: EmulatorThread) -> None:
    result = cli("update", "demo", "u")
    assert result.code == 2
    assert "nothing to update" in result.err
    assert cli("update", "demo", "u", "--timeout", "0").code == 2
    assert emu.emulator.stats.total_requests == 0


def test_delete_counts_missing_as_done(cli: Any, emu: EmulatorThread) -> None:
    for name in ("d1", "d2"):
        assert cli("create", "demo", *hook_flags(name)).code == 0
    result = cli("delete", "demo", "d1", "d2", "gone", "--json")
    assert result.code == 0
    doc = result.json()
    assert doc["counts"] == {"deleted": 2, "missing": 1}
    assert [item["status"] for item in doc["items"]] == ["deleted", "deleted", "missing"]
    assert emu.emulator.webhooks("demo") == []


def test_delete_fails_per_item_with_the_error(cli: Any, emu: EmulatorThread) -> None:
    emu.emulator.faults.fail_next(2, status=403)
    result = cli("delete", "demo", "a", "b")
    assert result.code == 1
    assert "error: 2 of 2 failed:" in result.err
    assert "  a: PermissionDeniedError:" in result.err
    assert "  1 not attempted: " in result.err  # a 403 is what every item would get
    assert emu.emulator.stats.total_requests == 1


# --- test ----------------------------------------------------------------------------------


def test_test_with_listen_prints_the_delivery(cli: Any, emu: EmulatorThread) -> None:
    result = cli(
        "test", "demo", "--object-type", "deployment", "--object-name", "demo-deployment",
        "--event", "deployment_request_failed", "--protected-header", f"Authorization={SECRET}",
        "--listen", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["ok"] is True
    assert doc["test"]["status"] == "completed"
    delivery = doc["delivery"]
    assert delivery["event"] == "deployment_request_failed"
    assert delivery["object_name"] == "demo-deployment"
    sent = [r.payload["request_id"] for r in emu.emulator.deliveries]
    assert delivery["request_id"] in sent
    assert SECRET not in result.out + result.err


def test_a_protected_value_read_back_masked_is_not_taken_for_the_secret(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmulatorThread(token=TOKEN, protected_mask="*****") as masked:
        monkeypatch.setenv("UBIOPS_API_HOST", masked.url)
        monkeypatch.setenv("UBIOPS_API_TOKEN", TOKEN)
        assert cli("create", "demo", *hook_flags("t"),
                   "--protected-header", f"Authorization={SECRET}").code == 0  # fmt: skip
        missing = cli("test", "demo", "t", "--wait")
        assert missing.code == 2
        assert "--protected-header Authorization=VALUE" in missing.err
        assert masked.emulator.stats.requests["webhook_tests_create"] == 0


def test_test_a_stored_webhook_needs_its_protected_values(cli: Any, emu: EmulatorThread) -> None:
    assert cli("create", "demo", *hook_flags("t"),
               "--protected-header", f"Authorization={SECRET}").code == 0  # fmt: skip
    missing = cli("test", "demo", "t", "--listen")
    assert missing.code == 2
    assert "--protected-header Authorization=VALUE" in missing.err
    assert "listening" not in missing.err  # checked before the receiver starts
    assert emu.emulator.stats.requests["webhook_tests_create"] == 0
    bad_flags = cli("test", "demo", "--listen", "--object-type", "deployment",
                    "--object-name", "demo-deployment", "--event", "deployment_request_completed",
                    "--timeout", "99")  # fmt: skip
    assert bad_flags.code == 2
    assert "timeout" in bad_flags.err
    assert "listening" not in bad_flags.err
    given = cli("test", "demo", "t", "--listen", "--protected-header", f"Authorization={SECRET}")
    assert given.code == 0, given.err
    first, second = given.out.splitlines()
    assert first.endswith(": completed")
    assert json.loads(second)["event"] == "deployment_request_completed"


def test_failed_test_exits_1_with_the_reason(cli: Any, emu: EmulatorThread) -> None:
    result = cli(
        "test", "demo", "--url", "http://127.0.0.1:9/closed", "--object-type", "deployment",
        "--object-name", "demo-deployment", "--event", "deployment_request_completed", "--wait",
    )  # fmt: skip
    assert result.code == 1
    assert ": failed: Connection error" in result.out
    assert "error: TestFailedError:" in result.err


def test_test_without_wait_returns_the_pending_test(cli: Any, emu: EmulatorThread) -> None:
    emu.emulator.test_delay = 5.0
    result = cli(
        "test", "demo", "--url", "http://127.0.0.1:9/closed", "--object-type", "deployment",
        "--object-name", "demo-deployment", "--event", "deployment_request_completed", "--json",
    )  # fmt: skip
    assert result.code == 0
    assert result.json()["test"]["status"] == "pending"


def test_test_spec_flags_conflict_with_a_name(cli: Any, emu: EmulatorThread) -> None:
    result = cli("test", "demo", "t", "--event", "deployment_request_failed")
    assert result.code == 2
    assert "--event" in result.err
    assert emu.emulator.stats.total_requests == 0


# --- secrets -------------------------------------------------------------------------------


def test_secrets_never_appear_in_any_output(cli: Any, emu: EmulatorThread, tmp_path: Path) -> None:
    path = tmp_path / "hooks.json"
    auth = {"key": "Authorization", "value": SECRET, "protected": True}
    path.write_text(json.dumps([spec(f"s{i}", headers=[auth]) for i in range(3)]))
    runs = [
        cli("create", "demo", "--file", str(path), "--json"),
        cli("create", "demo", "--file", str(path)),  # conflicts: errors are printed
        cli("list", "demo", "--json"),
        cli("list", "demo"),
        cli("get", "demo", "s0"),
        cli("get", "demo", "s0", "--json"),
        cli("test", "demo", "s0", "--listen", "--protected-header", f"Authorization={SECRET}"),
        cli("test", "demo", "s0", "--wait", "--protected-header", f"Authorization={SECRET}",
            "--url", "http://127.0.0.1:9/closed", "--json"),
        cli("update", "demo", "s1", "--protected-header", f"Authorization={SECRET}-2", "--json"),
        cli("create", "demo", "--file", str(path), "--token", "x"),
        cli("-vv", "get", "demo", "s2"),
    ]  # fmt: skip
    assert [r.code for r in runs] == [0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0]
    for run in runs:
        for text in (run.out, run.err):
            assert SECRET not in text
            assert TOKEN not in text


def test_plain_http_to_a_remote_host_warns_in_one_line(cli: Any) -> None:
    result = cli("delete", "demo", "", "--host", "http://192.0.2.1:9", "--token", "t")
    assert result.code == 2  # the empty name is refused before any request
    assert "warning: sending the API token over plain http to 192.0.2.1; use https" in result.err
    assert "names[0]: must be a non-empty string" in result.err
    assert ".py:" not in result.err
