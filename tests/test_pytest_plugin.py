"""The pytest plugin (modelwire.testing.pytest_plugin, issue 15), as a user gets it: small test
files run by pytester with no conftest, the plugin active only through its pytest11 entry point."""

from __future__ import annotations

import importlib.metadata

import pytest

import modelwire.testing.pytest_plugin as plugin

pytest_plugins = ["pytester"]

PLUGIN = "modelwire.testing.pytest_plugin"
LIVE_VARS = (
    "CLAVATA_API_KEY",
    "CLAVATA_HOST",
    "CLAVATA_PORT",
    "CLAVATA_EMULATOR_HOST",
    "CLARIFAI_PAT",
    "CLARIFAI_USER_ID",
    "CLARIFAI_API_BASE",
    "CLARIFAI_SESSION_TOKEN",
    "CLARIFAI_API_KEY",
    "DECTHINGS_API_KEY",
    "DECTHINGS_HTTP_URL",
    "DECTHINGS_WS_URL",
)


def run(pytester: pytest.Pytester, *args: str, subprocess: bool = False) -> pytest.RunResult:
    """pytest on the pytester directory, as a user runs it (no conftest unless the test made one)."""
    options = ("-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function", *args)
    if subprocess:
        return pytester.runpytest_subprocess(*options)
    return pytester.runpytest(*options)


@pytest.fixture
def no_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runs below see none of the developer's provider variables."""
    for name in LIVE_VARS:
        monkeypatch.delenv(name, raising=False)


def test_the_entry_point_registers_the_plugin_once(request: pytest.FixtureRequest) -> None:
    (entry,) = [e for e in importlib.metadata.entry_points(group="pytest11") if e.value == PLUGIN]
    assert entry.name == PLUGIN  # named by its module: `-p` / pytest_plugins naming it reuse it
    manager = request.config.pluginmanager
    assert manager.get_plugin(PLUGIN) is plugin
    assert [p for p in manager.get_plugins() if p is plugin] == [plugin]


def test_the_fixtures_work_without_a_conftest(pytester: pytest.Pytester, no_provider_env: None) -> None:
    pytester.makepyfile(
        test_user="""
        import grpc
        import pytest

        from modelwire import ApiError
        from modelwire.clavata import EvaluateRequest, Outcome


        def test_clavata_evaluate(clavata_client, modelwire_emulator):
            (response,) = clavata_client.evaluate(
                EvaluateRequest(content="I will attack you", policy_id="demo-policy")
            )
            assert response.report.outcome == Outcome.TRUE
            assert modelwire_emulator.host == "127.0.0.1" and modelwire_emulator.port > 0


        @pytest.mark.asyncio
        async def test_async_clavata(async_clavata_client):
            responses = [r async for r in async_clavata_client.evaluate(
                EvaluateRequest(content=["hello", "kill"], policy_id="demo-policy")
            )]
            assert [r.report.outcome for r in responses] == [Outcome.FALSE, Outcome.TRUE]


        def test_clarifai_app_round_trip(clarifai_user, clarifai_app, modelwire_calls):
            clarifai_app.create_dataset("photos")
            assert [d.id for d in clarifai_app.list_datasets()] == ["photos"]
            assert clarifai_app.id in [a.id for a in clarifai_user.list_apps()]
            assert modelwire_calls.counts()["PostDatasets"] == 1


        def test_the_app_was_deleted(clarifai_user):
            assert [a.id for a in clarifai_user.list_apps()] == []


        def test_decthings(decthings_client, modelwire_calls):
            models = decthings_client.model.get_models({})["models"]
            assert models
            assert modelwire_calls.counts()["Model.getModels"] == 1


        @pytest.mark.asyncio
        async def test_async_decthings(async_decthings_client):
            assert (await async_decthings_client.model.get_models({}))["models"]


        def test_fault_injection(clavata_client, modelwire_faults, modelwire_calls):
            job = clavata_client.create_job(content="x", policy_id="demo-policy", wait_for_completion=True)
            modelwire_faults.add("GetJob", grpc.StatusCode.INTERNAL, message="boom")
            with pytest.raises(ApiError, match="boom"):
                clavata_client.get_job(job.job_uuid)
            (failed,) = modelwire_calls.wait_for("GetJob", "INTERNAL")
            assert modelwire_calls.records("GetJob")[-1] is failed


        def test_faults_are_cleared_after_each_test(clavata_client, modelwire_calls):
            job = clavata_client.create_job(content="x", policy_id="demo-policy", wait_for_completion=True)
            assert clavata_client.get_job(job.job_uuid).job_uuid == job.job_uuid
            assert {r.code for r in modelwire_calls.records("GetJob")} == {"OK"}


        def test_fresh_and_factory(modelwire_emulator, modelwire_emulator_fresh, modelwire_emulator_factory):
            other = modelwire_emulator_factory(api_key="other-key", user_id="someone")
            ports = {modelwire_emulator.port, modelwire_emulator_fresh.port, other.port}
            assert len(ports) == 3
            assert modelwire_emulator_fresh.api_key == modelwire_emulator.api_key
            assert (other.api_key, other.user_id) == ("other-key", "someone")
            assert modelwire_emulator_fresh.decthings.running and other.decthings.running
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=9)


def test_modelwire_env_points_unchanged_code_at_the_emulator(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, no_provider_env: None
) -> None:
    # A real-looking key in the developer's shell must not reach unchanged code under the plugin.
    monkeypatch.setenv("CLARIFAI_API_KEY", "shell-key")
    monkeypatch.setenv("CLAVATA_HOST", "gateway.example")
    pytester.makepyfile(
        moderation="""
        from modelwire.clarifai import User
        from modelwire.clavata import ClavataClient
        from modelwire.decthings import DecthingsClientSync


        def flagged(text):
            with ClavataClient.create() as client:   # reads CLAVATA_EMULATOR_HOST, CLAVATA_API_KEY
                job = client.create_job(content=text, policy_id="demo-policy", wait_for_completion=True)
                return bool(job.results[0].matches)


        def app_ids():
            with User() as user:                     # CLARIFAI_USER_ID, CLARIFAI_PAT, CLARIFAI_API_BASE
                return [a.id for a in user.list_apps()]


        def model_count():
            with DecthingsClientSync() as client:   # DECTHINGS_API_KEY, DECTHINGS_HTTP_URL
                return len(client.model.get_models({})["models"])
        """,
        test_moderation="""
        import os

        import moderation


        def test_unchanged_code(modelwire_env, modelwire_emulator):
            assert modelwire_env["CLAVATA_EMULATOR_HOST"] == modelwire_emulator.address
            assert modelwire_env == modelwire_emulator.client_env()
            assert os.environ["CLARIFAI_PAT"] == modelwire_emulator.api_key
            assert "CLARIFAI_API_KEY" not in os.environ and "CLAVATA_HOST" not in os.environ
            assert "***" in repr(modelwire_env) and modelwire_emulator.api_key not in repr(modelwire_env)
            assert moderation.flagged("I will attack you") and not moderation.flagged("hello")
            assert moderation.app_ids() == []
            assert moderation.model_count() > 0


        def test_the_environment_is_restored():
            assert "CLAVATA_EMULATOR_HOST" not in os.environ
            assert os.environ["CLARIFAI_API_KEY"] == "shell-key"
        """,
    )
    pytester.syspathinsert()
    result = run(pytester)
    result.assert_outcomes(passed=2)


def test_options_and_overriding_the_emulator_options(
    pytester: pytest.Pytester, no_provider_env: None
) -> None:
    pytester.makefile(
        ".yaml",
        policies="""
        policies:
          - id: fruit-policy
            name: Fruit
            threshold: 0.5
            sections:
              - label: Fruit
                message: Mentions fruit
                any: ["banana"]
                weight: 0.9
        """,
    )
    pytester.makeini(
        """
        [pytest]
        modelwire_clavata_policies = policies.yaml
        modelwire_user_id = tester
        """
    )
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def modelwire_emulator_options(modelwire_emulator_options):
            return {**modelwire_emulator_options, "clavata_job_delay": 0.0, "webhook_backoff": 0.01}
        """
    )
    pytester.makepyfile(
        """
        import pytest

        from modelwire.clavata import EvaluateRequest


        def test_settings(modelwire_emulator, clavata_client, clarifai_user):
            assert modelwire_emulator.api_key == "cli-key"
            assert clarifai_user.user_id == "tester"
            request = EvaluateRequest(content="a banana", policy_id="fruit-policy")
            (response,) = clavata_client.evaluate(request)
            assert response.matches == {"Fruit": pytest.approx(0.9)}
        """
    )
    result = run(pytester, "--modelwire-api-key=cli-key")
    result.assert_outcomes(passed=1)
    assert "cli-key" not in result.stdout.str()


def test_live_mode_skips_without_keys_and_never_prints_them(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, no_provider_env: None
) -> None:
    secret = "sk-live-DO-NOT-PRINT-4242"
    monkeypatch.setenv("CLAVATA_API_KEY", secret)  # Clavata has a key; Clarifai and Decthings do not
    monkeypatch.setenv("CLAVATA_EMULATOR_HOST", "127.0.0.1:1")  # left in the shell: ignored live
    pytester.makepyfile(
        """
        import os

        import pytest


        @pytest.mark.modelwire_live
        def test_clarifai_live(clarifai_user):
            raise AssertionError("not reached: no CLARIFAI_PAT")


        @pytest.mark.modelwire_live
        def test_decthings_live(decthings_client):
            raise AssertionError("not reached: no DECTHINGS_API_KEY")


        @pytest.mark.modelwire_live
        def test_faults_cannot_run_live(modelwire_faults):
            raise AssertionError("not reached")


        @pytest.mark.modelwire_live
        def test_clavata_live_backend(modelwire_backend, modelwire_env):
            assert modelwire_backend.live and modelwire_backend.emulator is None
            kwargs = modelwire_backend.clavata_kwargs()
            assert kwargs["host"] == "gateway.app.clavata.ai"
            assert kwargs["auth_token"] == os.environ["CLAVATA_API_KEY"]
            assert "CLAVATA_EMULATOR_HOST" not in os.environ
            assert set(modelwire_env) == {"CLAVATA_API_KEY"}
            assert modelwire_env == {"CLAVATA_API_KEY": "wrong on purpose, to show the report"}


        def test_unmarked_tests_keep_the_emulator(modelwire_backend, clavata_client):
            assert not modelwire_backend.live
            assert clavata_client.endpoint.host == "127.0.0.1"
        """
    )
    result = run(pytester, "--modelwire-live", "-rs", "-v", "-l")
    result.assert_outcomes(passed=1, failed=1, skipped=3)
    out = result.stdout.str()
    assert secret not in out
    for line in (
        "modelwire: tests marked modelwire_live run against the real services: Clavata live; "
        "Clarifai skipped (CLARIFAI_PAT, CLARIFAI_USER_ID not set); Decthings skipped "
        "(DECTHINGS_API_KEY not set)",
        "SKIPPED*modelwire live: CLARIFAI_PAT, CLARIFAI_USER_ID not set, so this test cannot run "
        "against the real Clarifai service (set CLARIFAI_PAT and CLARIFAI_USER_ID, or run without "
        "--modelwire-live to use the emulator)",
        "SKIPPED*modelwire live: DECTHINGS_API_KEY not set*",
        "SKIPPED*modelwire live: fault injection exists only in the emulator*",
        "*::test_clavata_live_backend FAILED*",
    ):
        result.stdout.fnmatch_lines([line])
    assert "'CLAVATA_API_KEY': '***'" in out  # the diff of the failed comparison, masked

    # Without --modelwire-live the marked tests run on the emulator (the same tests, offline).
    pytester.makepyfile(
        test_offline="""
        import pytest


        @pytest.mark.modelwire_live
        def test_marked_runs_on_the_emulator(modelwire_backend, clarifai_app):
            assert not modelwire_backend.live and clarifai_app.id
        """
    )
    offline = run(pytester, "test_offline.py", "--strict-markers")
    offline.assert_outcomes(passed=1)
    assert "modelwire: tests marked" not in offline.stdout.str()


def test_a_missing_emulator_extra_is_a_clear_error(pytester: pytest.Pytester) -> None:
    # Pillow is part of the `emulator` extra: pretend it is not installed (None in sys.modules
    # makes `import PIL` fail), before anything imports the emulator.
    pytester.makepyfile(
        """
        import sys

        sys.modules["PIL"] = None
        for name in [m for m in sys.modules if m.startswith("PIL.")]:
            sys.modules[name] = None


        def test_without_fixtures():
            assert "modelwire.emulator" not in sys.modules  # pytest started: the plugin stayed lazy


        def test_with_a_fixture(clavata_client):
            pass


        def test_with_the_factory(modelwire_emulator_factory):
            pass
        """
    )
    result = run(pytester, subprocess=True)
    result.assert_outcomes(passed=1, errors=2)
    out = result.stdout.str()
    message = (
        "the modelwire emulator fixtures need the emulator extra: pip install 'modelwire[emulator]' "
        "(missing: PIL)"
    )
    # The ERRORS section holds each setup error's report; the short summary after it may repeat the
    # message or cut it to the terminal's width, so it is not counted.
    reports = out.split(" ERRORS ", 1)[1].split(" short test summary info ", 1)[0]
    assert reports.count(message) == 2  # once per test, nothing else: no traceback, no chained errors
    assert "Traceback" not in out and "exception" not in out


def test_naming_the_plugin_again_does_not_register_it_twice(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(f"pytest_plugins = [{PLUGIN!r}]")
    pytester.makepyfile("def test_it(modelwire_emulator_options):\n    assert modelwire_emulator_options\n")
    run(pytester).assert_outcomes(passed=1)
    run(pytester, "-p", PLUGIN).assert_outcomes(passed=1)
