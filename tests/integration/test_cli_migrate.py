"""export, plan, apply and copy through ``main(argv)``, against emulators in threads."""

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

TOKEN = "migrate-token-41aa"
TARGET_TOKEN = "target-token-8d0c"
SECRET = "hook-secret-value-6b2f"


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorThread]:
    for name in ("UBIOPS_TARGET_API_HOST", "UBIOPS_TARGET_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with EmulatorThread(token=TOKEN) as emulator:
        monkeypatch.setenv("UBIOPS_API_HOST", emulator.url)
        monkeypatch.setenv("UBIOPS_API_TOKEN", TOKEN)
        yield emulator


@pytest.fixture
def target() -> Iterator[EmulatorThread]:
    with EmulatorThread(token=TARGET_TOKEN) as emulator:
        emulator.emulator.add_project("prod", deployments={"demo-deployment": ["v1"]})
        yield emulator


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*argv: str) -> Run:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def spec(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "url": f"https://old.example/{name}",
        "object_type": "deployment",
        "object_name": "demo-deployment",
        "event": "deployment_request_completed",
    }
    data.update(changes)
    return data


def protected(value: str) -> list[dict[str, Any]]:
    return [{"key": "Authorization", "value": value, "protected": True}]


def seed(cli: Any, tmp_path: Path, *specs: dict[str, Any]) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(list(specs)))
    result = cli("create", "demo", "--file", str(path))
    assert result.code == 0, result.err


def test_export_to_stdout_and_to_a_yaml_file(cli: Any, emu: EmulatorThread, tmp_path: Path) -> None:
    seed(cli, tmp_path, spec("b", headers=protected(SECRET)), spec("a", labels={"k": "v"}))
    printed = cli("export", "demo")
    assert printed.code == 0
    specs = printed.json()
    assert [s["name"] for s in specs] == ["a", "b"]
    assert specs[1]["headers"] == [{"key": "Authorization", "value": None, "protected": True}]
    assert "1 protected header value is not readable" in printed.err

    path = tmp_path / "out.yaml"
    written = cli("export", "demo", "-o", str(path), "--json")
    assert written.code == 0
    assert written.json() == {
        "ok": True, "project": "demo", "count": 2, "file": str(path), "format": "yaml",
        "unknown_protected_values": 1,
    }  # fmt: skip
    assert yaml.safe_load(path.read_text()) == specs
    assert SECRET not in path.read_text() + printed.out + written.out


def test_plan_then_apply_then_nothing_left(cli: Any, emu: EmulatorThread, tmp_path: Path) -> None:
    seed(cli, tmp_path, spec("keep"), spec("change"), spec("extra"))
    path = tmp_path / "desired.yaml"
    desired = [spec("keep"), spec("change", timeout=20), spec("new")]
    path.write_text(yaml.safe_dump(desired))

    planned = cli("plan", "demo", str(path), "--prune", "--json")
    assert planned.code == 0, planned.err
    counts = planned.json()["plan"]["counts"]
    assert counts == {
        "create": 1, "update": 1, "replace": 0, "delete": 1, "unchanged": 1, "blocked": 0
    }  # fmt: skip

    dry = cli("apply", "demo", str(path), "--prune", "--dry-run")
    assert dry.code == 0
    assert "+ create  new" in dry.out
    assert "- delete  extra" in dry.out
    assert sorted(h.name for h in emu.emulator.webhooks("demo")) == ["change", "extra", "keep"]

    applied = cli("apply", "demo", str(path), "--prune", "--json")
    assert applied.code == 0, applied.err
    doc = applied.json()
    assert doc["counts"] == {"created": 1, "updated": 1, "deleted": 1}
    assert sorted(h.name for h in emu.emulator.webhooks("demo")) == ["change", "keep", "new"]
    assert emu.emulator.webhook("demo", "change").timeout == 20

    again = cli("apply", "demo", str(path), "--prune")
    assert again.code == 0
    assert "nothing to change" in again.out


def test_a_blocked_plan_changes_nothing(
    cli: Any, emu: EmulatorThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOK_TOKEN", raising=False)
    path = tmp_path / "desired.json"
    path.write_text(json.dumps([spec("s", headers=protected("${HOOK_TOKEN}")), spec("plain")]))
    result = cli("apply", "demo", str(path), "--json")
    assert result.code == 1
    doc = result.json()
    assert doc["ok"] is False
    assert doc["error"]["type"] == "PlanBlockedError"
    assert doc["plan"]["blocked"][0]["variables"] == ["HOOK_TOKEN"]
    assert "error: PlanBlockedError:" in result.err
    # The hint names the variable to set, not a flag that would not help.
    assert "hint: set the environment variable HOOK_TOKEN the specs refer to" in result.err
    assert "--protected" not in result.err
    assert emu.emulator.webhooks("demo") == []

    monkeypatch.setenv("HOOK_TOKEN", SECRET)
    result = cli("apply", "demo", str(path))
    assert result.code == 0, result.err
    assert {h.key: h.value for h in emu.emulator.webhook("demo", "s").headers} == {
        "Authorization": SECRET
    }
    assert SECRET not in result.out + result.err


def test_plan_with_an_invalid_spec_names_the_field(
    cli: Any, emu: EmulatorThread, tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([spec("ok"), spec("bad", event="pipeline_request_failed")]))
    result = cli("plan", "demo", str(path))
    assert result.code == 2
    assert "bad.json[1].event" in result.err
    assert cli("plan", "demo", str(tmp_path / "missing.json")).code == 2
    assert emu.emulator.stats.total_requests == 0


def test_copy_to_another_host_with_rename_rewrite_and_secrets(
    cli: Any,
    emu: EmulatorThread,
    target: EmulatorThread,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(cli, tmp_path, spec("a", headers=protected(SECRET)), spec("b"))
    monkeypatch.setenv("COPY_SECRET", SECRET)
    argv = [
        "copy", "demo", "prod", "--target-host", target.url, "--target-token", TARGET_TOKEN,
        "--rename", "a=a-prod", "--rewrite-url", "https://old.example/=https://new.example/",
        "--protected", "Authorization=${COPY_SECRET}",
    ]  # fmt: skip
    dry = cli(*argv, "--dry-run", "--json")
    assert dry.code == 0, dry.err
    assert dry.json()["dry_run"] is True
    assert [c["name"] for c in dry.json()["plan"]["creates"]] == ["a-prod", "b"]
    assert target.emulator.webhooks("prod") == []

    copied = cli(*argv)
    assert copied.code == 0, copied.err
    stored = {h.name: h for h in target.emulator.webhooks("prod")}
    assert sorted(stored) == ["a-prod", "b"]
    assert stored["a-prod"].url == "https://new.example/a"
    assert stored["a-prod"].headers[0].value == SECRET
    for run in (dry, copied):
        assert SECRET not in run.out + run.err
        assert TARGET_TOKEN not in run.out + run.err


def test_copy_to_another_host_needs_its_own_token(cli: Any, emu: EmulatorThread) -> None:
    result = cli("copy", "demo", "prod", "--target-host", "http://127.0.0.1:9/v2.1")
    assert result.code == 2
    assert "--target-token" in result.err
    assert emu.emulator.stats.total_requests == 0


def test_copy_within_a_host_with_a_blocked_secret(
    cli: Any, emu: EmulatorThread, tmp_path: Path
) -> None:
    seed(cli, tmp_path, spec("a", headers=protected(SECRET)))
    result = cli("copy", "demo", "demo", "--rename", "a=a2")
    assert result.code == 1
    assert "x blocked 'a2' (create)" in result.out
    assert "PlanBlockedError" in result.err
    assert [h.name for h in emu.emulator.webhooks("demo")] == ["a"]


def test_create_file_resolves_protected_references(
    cli: Any, emu: EmulatorThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "hooks.json"
    path.write_text(json.dumps([spec("r", headers=protected("Token ${REF_SECRET}"))]))
    monkeypatch.delenv("REF_SECRET", raising=False)
    unset = cli("create", "demo", "--file", str(path))
    assert unset.code == 2
    assert "variable REF_SECRET not set" in unset.err
    monkeypatch.setenv("REF_SECRET", SECRET)
    done = cli("create", "demo", "--file", str(path))
    assert done.code == 0
    assert emu.emulator.webhook("demo", "r").headers[0].value == f"Token {SECRET}"


def test_a_large_blocked_plan_is_summed_up_on_stderr(
    cli: Any, emu: EmulatorThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOK_TOKEN", raising=False)
    path = tmp_path / "desired.json"
    specs = [spec(f"hook-{i:03d}", headers=protected("${HOOK_TOKEN}")) for i in range(200)]
    path.write_text(json.dumps(specs))
    result = cli("plan", "demo", str(path))
    assert result.code == 1
    assert result.out.count("  x blocked 'hook-") == 200  # the details are on stdout
    assert len(result.err) < 1000  # and stderr counts them and shows the first few
    assert "200 webhook(s) need protected header values" in result.err
    assert "; and 195 more" in result.err


def test_fifty_secrets_come_from_one_protected_file(
    cli: Any, emu: EmulatorThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = [spec(f"hook-{i:02d}", headers=protected_unknown()) for i in range(50)]
    (tmp_path / "desired.json").write_text(json.dumps(specs))
    monkeypatch.setenv("HOOK_07_SECRET", "from-the-environment")
    lines = ["# one secret per webhook", ""]
    lines += [f"hook-{i:02d}/Authorization=secret-{i:02d}" for i in range(50) if i % 3]
    lines += [f"export hook-{i:02d}/Authorization='quoted {i:02d}'" for i in range(0, 50, 3)]
    at = lines.index("hook-07/Authorization=secret-07")
    lines[at] = "hook-07/Authorization=${HOOK_07_SECRET}"
    (tmp_path / "secrets.env").write_text("\n".join(lines) + "\n")
    result = cli("apply", "demo", str(tmp_path / "desired.json"),
                 "--protected-file", str(tmp_path / "secrets.env"))  # fmt: skip
    assert result.code == 0, result.err
    stored = {h.name: h.headers[0].value for h in emu.emulator.webhooks("demo")}
    assert stored["hook-01"] == "secret-01"
    assert stored["hook-03"] == "quoted 03"
    assert stored["hook-07"] == "from-the-environment"
    assert len(stored) == 50
    assert "secret-" not in result.out + result.err
    assert "quoted" not in result.out + result.err

    # The same as a JSON object, for a copy to another project.
    emu.emulator.add_project("prod", deployments={"demo-deployment": ["v1"]})
    as_json = tmp_path / "secrets.json"
    as_json.write_text(json.dumps({"Authorization": "copied-secret"}))
    copied = cli("copy", "demo", "prod", "--protected-file", str(as_json))
    assert copied.code == 0, copied.err
    assert {h.headers[0].value for h in emu.emulator.webhooks("prod")} == {"copied-secret"}


def protected_unknown() -> list[dict[str, Any]]:
    return [{"key": "Authorization", "value": None, "protected": True}]


@pytest.mark.parametrize(("content", "expected"), [
    ("A=1\nno equals sign here\n", "secrets.env: line 2: expected KEY=VALUE"),
    ("A=1\n# c\nA=2\n", "secrets.env: line 3: A is given twice"),
    ("hook-00/Authorization=x\n", "'hook-00/Authorization' is given by --protected and"),
    ("Authorization=\n", "protected_values['Authorization']: must map"),
])  # fmt: skip
def test_a_bad_protected_file_is_refused_before_any_request(
    cli: Any, emu: EmulatorThread, tmp_path: Path, content: str, expected: str
) -> None:
    desired = [spec("hook-00", headers=protected_unknown())]
    (tmp_path / "desired.json").write_text(json.dumps(desired))
    path = tmp_path / "secrets.env"
    path.write_text(content.replace("no equals sign here", "s3cret-not-shown"))
    result = cli("plan", "demo", str(tmp_path / "desired.json"), "--protected-file", str(path),
                 "--protected", "hook-00/Authorization=flag-value")  # fmt: skip
    assert result.code == 2
    assert expected in result.err
    assert "s3cret-not-shown" not in result.err
    assert emu.emulator.stats.total_requests == 0


def test_apply_without_prune_keeps_webhooks_no_spec_names(
    cli: Any, emu: EmulatorThread, tmp_path: Path
) -> None:
    seed(cli, tmp_path, spec("kept"), spec("extra"))
    path = tmp_path / "desired.json"
    path.write_text(json.dumps([spec("kept", timeout=12)]))
    applied = cli("apply", "demo", str(path))
    assert applied.code == 0, applied.err
    assert "- delete" not in applied.out
    assert "0 to delete" in applied.out
    assert sorted(h.name for h in emu.emulator.webhooks("demo")) == ["extra", "kept"]
    pruned = cli("apply", "demo", str(path), "--prune")
    assert "  - delete  extra" in pruned.out
    assert [h.name for h in emu.emulator.webhooks("demo")] == ["kept"]
