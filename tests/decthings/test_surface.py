"""Both clients expose every method of the published decthings-api 0.0.4, with the same names."""

from __future__ import annotations

import inspect

import pytest

from modelwire.decthings import DecthingsClient, DecthingsClientSync

# The published client's Python method names per namespace (reference A.4).
PUBLISHED = {
    "dataset": "create_dataset update_dataset delete_dataset get_datasets add_entries "
    "add_entries_to_needs_review finalize_needs_review_entries get_entries get_needs_review_entries "
    "remove_entries remove_needs_review_entries",
    "debug": "launch_debug_session get_debug_sessions terminate_debug_session call_create_model_state "
    "call_instantiate_model call_train get_training_status get_training_metrics cancel_training_session "
    "call_evaluate call_get_model_state download_state_data send_to_remote_inspector subscribe_to_events "
    "unsubscribe_from_events",
    "fs": "lookup setattr getattr mknod read symlink readlink mkdir unlink rmdir rename link readdir copy "
    "rmdir_all write",
    "language": "start_language_server write_to_language_server unsubscribe_from_events",
    "model": "create_model wait_for_model_to_be_created delete_model update_model get_models snapshot_model "
    "update_snapshot delete_snapshot set_filesystem_size get_filesystem_usage set_image create_state "
    "upload_state get_creating_states wait_for_state_to_be_created update_model_state "
    "set_current_model_state delete_model_state get_model_state get_snapshot_state train "
    "get_training_status get_training_metrics get_training_sysinfo cancel_training_session "
    "clear_previous_training_session evaluate get_evaluations get_finished_evaluation_result "
    "cancel_evaluation set_used_persistent_launchers_for_evaluate get_used_persistent_launchers_for_evaluate",
    "persistent_launcher": "create_persistent_launcher get_persistent_launchers get_sysinfo "
    "delete_persistent_launcher",
    "spawned": "spawn_command spawn_command_for_model terminate_spawned_command get_spawned_commands "
    "write_to_spawned_command subscribe_to_events unsubscribe_from_events",
    "team": "create_team update_team get_teams invite_users_to_team remove_users_from_team "
    "accept_team_invitation deny_team_invitation set_share_model_with_team set_share_dataset_with_team "
    "create_role edit_role remove_role assign_role",
    "terminal": "launch_terminal_session terminate_terminal_session get_terminal_sessions "
    "write_to_terminal_session resize_terminal_session add_filesystem_access_for_terminal_session "
    "subscribe_to_events unsubscribe_from_events",
    "user": "find_matching_users get_users get_notifications set_notification get_billing_stats "
    "estimate_amount_due get_quotas",
}


def _methods(namespace: object) -> dict[str, object]:
    return {n: getattr(namespace, n) for n in dir(namespace) if not n.startswith("_")}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_every_published_method_exists_on_both_clients(name: str) -> None:
    async_client = DecthingsClient(api_key="k", http_server_address="http://127.0.0.1:1/v0")
    sync_client = DecthingsClientSync(api_key="k", http_server_address="http://127.0.0.1:1/v0")
    try:
        async_methods = _methods(getattr(async_client, name))
        sync_methods = _methods(getattr(sync_client, name))
        assert set(PUBLISHED[name].split()) <= set(async_methods)
        assert set(async_methods) == set(sync_methods)
        for method, fn in async_methods.items():
            assert inspect.iscoroutinefunction(fn), method
            assert not inspect.iscoroutinefunction(sync_methods[method]), method
            assert inspect.signature(fn) == inspect.signature(sync_methods[method]), method
    finally:
        sync_client.close()
        async_client.close()


def test_total_count_and_the_corrected_wire_names() -> None:
    client = DecthingsClient(api_key="k", http_server_address="http://127.0.0.1:1/v0")
    total = sum(len(_methods(getattr(client, ns))) for ns in PUBLISHED)
    assert total == 119 + 1  # 119 wire methods, plus the set_current_model_state alias
    # Correct wire names where 0.0.4 sends wrong ones (FS.write -> mknod, downloadStateData -> ...).
    assert "`FS.write`" in (client.fs.write.__doc__ or "")
    assert "`Debug.downloadStateData`" in (client.debug.download_state_data.__doc__ or "")
    assert "`Model.setActiveModelState`" in (client.model.set_active_model_state.__doc__ or "")


def test_client_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DECTHINGS_API_KEY", "from-env")
    monkeypatch.setenv("DECTHINGS_HTTP_URL", "http://10.0.0.1:8080/v0")
    monkeypatch.delenv("DECTHINGS_WS_URL", raising=False)
    client = DecthingsClient()
    assert client.http_server_address == "http://10.0.0.1:8080/v0"
    assert client.ws_server_address == "ws://10.0.0.1:8080/v0/ws"
    assert "from-env" not in repr(client)
    explicit = DecthingsClient(http_server_address="https://example.com/v0")
    assert explicit.ws_server_address == "wss://example.com/v0/ws"
    with pytest.raises(ValueError, match="http_server_address must be a http or https URL"):
        DecthingsClient(http_server_address="ftp://example.com")
