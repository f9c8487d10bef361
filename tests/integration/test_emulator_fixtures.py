"""The pytest plugin's fixtures, used the way a user of the library would use them."""

from __future__ import annotations

import aiohttp
import pytest
from _emulator_helpers import webhook_body

from aioubiwebhooks.emulator import Emulator

pytest_plugins = ["pytester"]


@pytest.mark.parametrize("round_", [1, 2])
async def test_fresh_emulator_for_every_test(ubiops_emulator: Emulator, round_: int) -> None:
    # Run twice: a state leaking from the first run would show in the second.
    assert ubiops_emulator.stats.total_requests == 0
    assert ubiops_emulator.webhooks("demo") == []
    assert ubiops_emulator.url.startswith("http://127.0.0.1:")
    async with (
        aiohttp.ClientSession(headers={"Authorization": ubiops_emulator.token}) as http,
        http.post(f"{ubiops_emulator.url}/projects/demo/webhooks", json=webhook_body()) as response,
    ):
        assert response.status == 201
    assert [w.name for w in ubiops_emulator.webhooks("demo")] == ["hook-1"]


@pytest.mark.ubiops_emulator(token="T", rate_limit=(10, 60))
async def test_marker_options_reach_the_emulator(ubiops_emulator: Emulator) -> None:
    assert ubiops_emulator.token == "T"
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{ubiops_emulator.url}/projects/demo/webhooks", headers={"Authorization": "Token T"}
        ) as response,
    ):
        assert response.status == 200
        assert response.headers["x-ratelimit-limit"] == "10"


def test_plugin_is_registered_for_other_projects(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ubiops_emulator(seed={"projects": {"mine": {"deployments": {"d": ["v1"]}}}})
        async def test_uses_fixture(ubiops_emulator):
            assert ubiops_emulator.webhooks("mine") == []
            assert ubiops_emulator.url.endswith("/v2.1")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=1)


async def test_the_fixture_has_no_limit_but_sends_the_headers(ubiops_emulator: Emulator) -> None:
    assert ubiops_emulator.rate_limit is None
    async with (
        aiohttp.ClientSession(headers={"Authorization": ubiops_emulator.token}) as http,
        http.get(f"{ubiops_emulator.url}/projects/demo/webhooks") as answer,
    ):
        assert answer.status == 200
        assert answer.headers["x-ratelimit-limit"] == "1000000000"


@pytest.mark.ubiops_emulator(protected_mask="***", finished_status="cancelled")
async def test_service_choices_go_in_the_marker(ubiops_emulator: Emulator) -> None:
    assert ubiops_emulator.state.protected_mask == "***"
    assert ubiops_emulator.state.deliverer.finished.describe() == "cancelled"
