"""Plain records over the raw V2 stub: compute clusters, nodepools, deployments and API keys
(create / get / list with paging / patch / delete, id rules, unknown ids, parents), keys that
authenticate after PostKeys and stop after DeleteKey, their scopes, MyScopes; and the unchanged
published clarifai SDK's compute flow where it is installed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import pytest
from v2_calls import Api, S

from modelwire._gen.clarifai.api import resources_pb2 as R
from modelwire._gen.clarifai.api import service_pb2_grpc
from modelwire._gen.clarifai.api.status import status_pb2
from modelwire.emulator import Emulator
from modelwire.emulator.clarifai.v2_published import METHODS

KEY = "plain-records-key"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(api_key=KEY) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def user(emu: Emulator) -> Iterator[Api]:
    with grpc.insecure_channel(emu.address) as channel:
        yield Api(service_pb2_grpc.V2Stub(channel), R.UserAppIDSet(user_id=emu.user_id), KEY)


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _cluster(cluster_id: str) -> R.ComputeCluster:
    return R.ComputeCluster(
        id=cluster_id, cloud_provider=R.CloudProvider(id="aws"), region="us-east-1", cluster_type="dedicated"
    )


def _nodepool(nodepool_id: str) -> R.Nodepool:
    return R.Nodepool(id=nodepool_id, instance_types=[R.InstanceType(id="cpu-t3a-small")], max_instances=2)


@pytest.fixture
def cluster(user: Api) -> str:
    cluster_id = _id("cc")
    user("PostComputeClusters", compute_clusters=[_cluster(cluster_id)])
    return cluster_id


@pytest.fixture
def app(user: Api) -> Iterator[str]:
    app_id = _id("keys-app")
    user("PostApps", apps=[R.App(id=app_id)])
    yield app_id
    user("DeleteApp", S.SUCCESS, user_app_id=R.UserAppIDSet(user_id=user.ids.user_id, app_id=app_id))


# -- compute clusters ----------------------------------------------------------------------------------


def test_compute_clusters_are_created_got_listed_by_page_patched_and_deleted(user: Api) -> None:
    ids = [_id("cc") for _ in range(3)]
    created = user(
        "PostComputeClusters", compute_clusters=[_cluster(i) for i in ids[:2]] + [_cluster(ids[2])]
    ).compute_clusters
    assert [c.id for c in created] == ids
    assert all(c.user_id == user.ids.user_id and c.created_at.seconds for c in created)
    got = user("GetComputeCluster", compute_cluster_id=ids[1]).compute_cluster
    assert (got.id, got.cloud_provider.id, got.region) == (ids[1], "aws", "us-east-1")
    listed = [c.id for c in user("ListComputeClusters", per_page=1000).compute_clusters]
    assert listed[:3] == ids[::-1]  # newest first
    pages = [[c.id for c in user("ListComputeClusters", page=p, per_page=2).compute_clusters] for p in (1, 2)]
    assert pages[0] + pages[1] == listed[:4]
    patched = user(
        "PatchComputeClusters",
        compute_clusters=[R.ComputeCluster(id=ids[0], description="patched", region="eu-west-1")],
        action="overwrite",
    ).compute_clusters
    assert (patched[0].description, patched[0].region) == ("patched", "us-east-1")  # region is fixed
    user("DeleteComputeClusters", ids=ids)
    user("GetComputeCluster", S.COMPUTE_CLUSTER_DOES_NOT_EXIST, compute_cluster_id=ids[0])


def test_compute_cluster_ids_and_fields_are_checked(user: Api, cluster: str) -> None:
    user("PostComputeClusters", S.COMPUTE_CLUSTER_INVALID_ARGUMENT, compute_clusters=[_cluster("has space")])
    user("PostComputeClusters", S.COMPUTE_CLUSTER_INVALID_ARGUMENT, compute_clusters=[_cluster("")])
    user("PostComputeClusters", S.COMPUTE_CLUSTER_INVALID_ARGUMENT, compute_clusters=[_cluster(cluster)])
    twice = _id("cc")
    user("PostComputeClusters", S.COMPUTE_CLUSTER_INVALID_ARGUMENT, compute_clusters=[_cluster(twice)] * 2)
    user("GetComputeCluster", S.COMPUTE_CLUSTER_DOES_NOT_EXIST, compute_cluster_id=twice)  # nothing stored
    no_region = R.ComputeCluster(id=_id("cc"), cloud_provider=R.CloudProvider(id="aws"))
    user("PostComputeClusters", S.COMPUTE_CLUSTER_INVALID_ARGUMENT, compute_clusters=[no_region])
    user("PostComputeClusters", S.COMPUTE_CLUSTER_INVALID_REQUEST)
    user("DeleteComputeClusters", S.COMPUTE_CLUSTER_DOES_NOT_EXIST, ids=[cluster, "nope"])
    user("GetComputeCluster", compute_cluster_id=cluster)  # the failed delete deleted nothing


def test_the_creators_key_sent_with_a_cluster_is_never_stored(user: Api) -> None:
    given = _cluster(_id("cc"))
    given.key.id = KEY
    created = user("PostComputeClusters", compute_clusters=[given]).compute_clusters[0]
    assert not created.HasField("key")
    assert not user("GetComputeCluster", compute_cluster_id=given.id).compute_cluster.HasField("key")


def test_compute_orchestration_needs_a_personal_access_token(user: Api, emu: Emulator, app: str) -> None:
    app_key = user.as_key(emu.clarifai.create_app_key(app), app)
    app_key("ListComputeClusters", S.CONN_INSUFFICIENT_SCOPES)


# -- nodepools -----------------------------------------------------------------------------------------


def test_nodepools_live_in_their_compute_cluster(user: Api, cluster: str) -> None:
    nodepool = _id("np")
    created = user("PostNodepools", compute_cluster_id=cluster, nodepools=[_nodepool(nodepool)]).nodepools[0]
    assert (created.compute_cluster.id, created.compute_cluster.user_id) == (cluster, user.ids.user_id)
    assert created.status == R.Nodepool.NODEPOOL_STATUS_READY
    got = user("GetNodepool", compute_cluster_id=cluster, nodepool_id=nodepool).nodepool
    assert got.instance_types[0].id == "cpu-t3a-small"
    assert [n.id for n in user("ListNodepools", compute_cluster_id=cluster).nodepools] == [nodepool]
    other = _id("cc")
    user("PostComputeClusters", compute_clusters=[_cluster(other)])
    assert user("ListNodepools", compute_cluster_id=other).nodepools == []
    user("GetNodepool", S.NODEPOOL_DOES_NOT_EXIST, compute_cluster_id=other, nodepool_id=nodepool)
    user("DeleteNodepools", S.NODEPOOL_DOES_NOT_EXIST, compute_cluster_id=cluster, ids=["nope"])
    user("DeleteNodepools", compute_cluster_id=cluster, ids=[nodepool])
    assert user("ListNodepools", compute_cluster_id=cluster).nodepools == []


def test_nodepools_under_a_missing_cluster_are_refused(user: Api, cluster: str) -> None:
    for method, fields in (
        ("PostNodepools", {"nodepools": [_nodepool(_id("np"))]}),
        ("ListNodepools", {}),
        ("GetNodepool", {"nodepool_id": "np"}),
        ("DeleteNodepools", {"ids": ["np"]}),
    ):
        user(method, S.COMPUTE_CLUSTER_DOES_NOT_EXIST, compute_cluster_id="no-such-cluster", **fields)
    user("PostNodepools", S.NODEPOOL_INVALID_ARGUMENT, nodepools=[_nodepool(_id("np"))])  # no cluster id
    bad = _nodepool(_id("np"))
    bad.min_instances = 5
    user("PostNodepools", S.NODEPOOL_INVALID_ARGUMENT, compute_cluster_id=cluster, nodepools=[bad])
    elsewhere = _nodepool(_id("np"))
    elsewhere.compute_cluster.id = "another"
    user("PostNodepools", S.NODEPOOL_INVALID_ARGUMENT, compute_cluster_id=cluster, nodepools=[elsewhere])
    no_type = R.Nodepool(id=_id("np"))
    user("PostNodepools", S.NODEPOOL_INVALID_ARGUMENT, compute_cluster_id=cluster, nodepools=[no_type])


def test_deleting_a_cluster_deletes_its_nodepools(user: Api, cluster: str) -> None:
    nodepool = _id("np")
    user("PostNodepools", compute_cluster_id=cluster, nodepools=[_nodepool(nodepool)])
    user("DeleteComputeClusters", ids=[cluster])
    user("PostComputeClusters", compute_clusters=[_cluster(cluster)])  # the id is free again
    assert user("ListNodepools", compute_cluster_id=cluster).nodepools == []


# -- deployments ---------------------------------------------------------------------------------------


def _model(user: Api, app_id: str) -> R.Model:
    in_app = R.UserAppIDSet(user_id=user.ids.user_id, app_id=app_id)
    model_id = _id("model")
    user("PostModels", user_app_id=in_app, model=R.Model(id=model_id, model_type_id="embedding-classifier"))
    return R.Model(id=model_id, app_id=app_id, user_id=user.ids.user_id)


def test_deployments_name_existing_nodepools_and_workers(user: Api, cluster: str, app: str) -> None:
    nodepool = _id("np")
    user("PostNodepools", compute_cluster_id=cluster, nodepools=[_nodepool(nodepool)])
    place = R.Nodepool(id=nodepool, compute_cluster=R.ComputeCluster(id=cluster))
    model = _model(user, app)
    deployment = R.Deployment(id=_id("dep"), nodepools=[place], worker=R.Worker(model=model))
    created = user("PostDeployments", deployments=[deployment]).deployments[0]
    assert created.desired_worker.model.id == created.worker.model.id == model.id
    assert created.user_id == user.ids.user_id
    assert user("GetDeployment", deployment_id=deployment.id).deployment.worker.model.id == model.id
    listed = user("ListDeployments", nodepool_id=nodepool).deployments
    assert [d.id for d in listed] == [deployment.id]
    assert user("ListDeployments", nodepool_id="other").deployments == []
    assert [d.id for d in user("ListDeployments", compute_cluster_id=cluster).deployments] == [deployment.id]
    # Patch: only "overwrite"; `worker` is observed and follows `desired_worker`.
    other = _model(user, app)
    user("PatchDeployments", S.DEPLOYMENT_INVALID_REQUEST, deployments=[deployment], action="merge")
    patched = user(
        "PatchDeployments",
        deployments=[R.Deployment(id=deployment.id, desired_worker=R.Worker(model=other), description="v2")],
        action="overwrite",
    ).deployments[0]
    assert (patched.worker.model.id, patched.description) == (other.id, "v2")
    user("PatchDeployments", S.DEPLOYMENT_DOES_NOT_EXIST, deployments=[R.Deployment(id="nope")])
    # A nodepool (or cluster) in use cannot go.
    user("DeleteNodepools", S.NODEPOOL_INVALID_REQUEST, compute_cluster_id=cluster, ids=[nodepool])
    user("DeleteComputeClusters", S.COMPUTE_CLUSTER_INVALID_REQUEST, ids=[cluster])
    user("DeleteDeployments", ids=[deployment.id])
    user("GetDeployment", S.DEPLOYMENT_DOES_NOT_EXIST, deployment_id=deployment.id)
    user("DeleteNodepools", compute_cluster_id=cluster, ids=[nodepool])


def test_deployments_are_checked(user: Api, cluster: str, app: str) -> None:
    model = _model(user, app)
    place = R.Nodepool(id="no-such-np", compute_cluster=R.ComputeCluster(id=cluster))
    worker = R.Worker(model=model)
    user(
        "PostDeployments",
        S.NODEPOOL_DOES_NOT_EXIST,
        deployments=[R.Deployment(id=_id("d"), nodepools=[place], worker=worker)],
    )
    user(
        "PostDeployments",
        S.DEPLOYMENT_INVALID_ARGUMENT,
        deployments=[R.Deployment(id=_id("d"), worker=worker)],
    )
    nodepool = _id("np")
    user("PostNodepools", compute_cluster_id=cluster, nodepools=[_nodepool(nodepool)])
    place.id = nodepool
    user(
        "PostDeployments",
        S.DEPLOYMENT_INVALID_ARGUMENT,
        deployments=[R.Deployment(id=_id("d"), nodepools=[place])],
    )
    ghost = R.Worker(model=R.Model(id="ghost", app_id=app))
    user(
        "PostDeployments",
        S.MODEL_DOES_NOT_EXIST,
        deployments=[R.Deployment(id=_id("d"), nodepools=[place], worker=ghost)],
    )
    user(
        "PostDeployments",
        S.DEPLOYMENT_INVALID_ARGUMENT,
        deployments=[R.Deployment(id="bad id", nodepools=[place], worker=worker)],
    )
    user("DeleteDeployments", S.DEPLOYMENT_DOES_NOT_EXIST, ids=["nope"])


# -- keys ----------------------------------------------------------------------------------------------


def test_a_key_made_by_post_keys_authenticates_until_it_is_deleted(user: Api, app: str) -> None:
    made = user("PostKeys", keys=[R.Key(description="ci", scopes=["All"], apps=[R.App(id=app)])]).keys[0]
    assert made.id and made.type == "app_specific_key" and made.apps[0].id == app
    as_key = user.as_key(made.id)
    assert as_key("GetApp").app.id == app  # the key implies its user and app
    as_key("ListApps", S.CONN_INSUFFICIENT_SCOPES)  # PAT-only RPCs refuse app keys
    assert user("GetKey", key_id=made.id).key.description == "ci"
    assert made.id in [k.id for k in user("ListKeys").keys]
    in_app = R.UserAppIDSet(user_id=user.ids.user_id, app_id=app)
    assert [k.id for k in user("ListAppKeys", user_app_id=in_app).keys] == [made.id]
    scopes = as_key("MyScopes")
    assert (list(scopes.scopes), scopes.app.id) == (["All"], app)
    user("DeleteKey", key_id=made.id)
    as_key("GetApp", S.CONN_KEY_NOT_FOUND)
    user("GetKey", S.CONN_DOES_NOT_EXIST, key_id=made.id)
    user("DeleteKey", S.CONN_DOES_NOT_EXIST, key_id=made.id)


def test_a_key_may_do_only_what_its_scopes_allow_and_patch_keys_changes_them(
    user: Api, app: str, emu: Emulator
) -> None:
    # GetApp needs Apps:Get and Workflows:Get (the scopes clarifai-grpc lists for it).
    read_app = ["Apps:Get", "Workflows:Get"]
    made = user("PostKeys", keys=[R.Key(scopes=read_app, apps=[R.App(id=app)])]).keys[0]
    as_key = user.as_key(made.id)
    as_key("GetApp")
    failed = as_key("ListInputs", S.CONN_INSUFFICIENT_SCOPES)
    assert "Inputs:Get" in failed.status.details
    # Methods our protos do not declare check scopes too (ListInputsAddJobs needs Inputs:Get).
    with grpc.insecure_channel(emu.address) as channel:
        call = channel.unary_unary(
            "/clarifai.api.V2/ListInputsAddJobs", response_deserializer=status_pb2.BaseResponse.FromString
        )
        answer = call(b"", metadata=(("authorization", f"Key {made.id}"),), timeout=10)
    assert answer.status.code == S.CONN_INSUFFICIENT_SCOPES
    list_inputs = sorted(set(METHODS["ListInputs"].scopes))  # Inputs:Get, Annotations:Get, ...
    user("PatchKeys", keys=[R.Key(id=made.id, scopes=list_inputs)], action="overwrite")
    as_key("ListInputs")
    user(
        "PatchKeys", S.CONN_INVALID_REQUEST, keys=[R.Key(id=made.id, scopes=["Teleport"])], action="overwrite"
    )
    user("PatchKeys", S.CONN_DOES_NOT_EXIST, keys=[R.Key(id="nope", scopes=["All"])], action="overwrite")
    assert sorted(as_key("MyScopes").scopes) == list_inputs


def test_personal_access_tokens_made_by_post_keys_reach_every_app(user: Api, app: str) -> None:
    made = user("PostKeys", keys=[R.Key(type="personal_access_token", scopes=["All"])]).keys[0]
    pat = user.as_key(made.id)
    assert app in [a.id for a in pat("ListApps").apps]
    assert list(pat("MyScopesUser").scopes) == ["All"]
    user("DeleteKey", key_id=made.id)
    pat("ListApps", S.CONN_KEY_NOT_FOUND)


def test_keys_are_checked(user: Api, app: str) -> None:
    for key in (
        R.Key(scopes=["All"]),  # an app key names one app
        R.Key(scopes=["All"], apps=[R.App(id="no-such-app")]),
        R.Key(apps=[R.App(id=app)]),  # scopes are required
        R.Key(scopes=["Nope"], apps=[R.App(id=app)]),
        R.Key(type="personal_access_token", scopes=["All"], apps=[R.App(id=app)]),
        R.Key(type="weird", scopes=["All"]),
        R.Key(id="has space", scopes=["All"], apps=[R.App(id=app)]),
    ):
        expect = (
            S.CONN_DOES_NOT_EXIST if key.apps and key.apps[0].id == "no-such-app" else S.CONN_INVALID_REQUEST
        )
        user("PostKeys", expect, keys=[key])
    taken = user("PostKeys", keys=[R.Key(scopes=["All"], apps=[R.App(id=app)])]).keys[0].id
    user("PostKeys", S.CONN_INVALID_REQUEST, keys=[R.Key(id=taken, scopes=["All"], apps=[R.App(id=app)])])
    expired = R.Key(scopes=["All"], apps=[R.App(id=app)])
    expired.expires_at.seconds = 1
    user("PostKeys", S.CONN_INVALID_REQUEST, keys=[expired])


def test_deleting_an_app_deletes_its_keys(user: Api) -> None:
    app_id = _id("doomed")
    user("PostApps", apps=[R.App(id=app_id)])
    made = user("PostKeys", keys=[R.Key(scopes=["All"], apps=[R.App(id=app_id)])]).keys[0]
    user("DeleteApp", user_app_id=R.UserAppIDSet(user_id=user.ids.user_id, app_id=app_id))
    user.as_key(made.id)("GetApp", S.CONN_KEY_NOT_FOUND)
    user("GetKey", S.CONN_DOES_NOT_EXIST, key_id=made.id)


def test_my_scopes_of_the_emulators_key(user: Api, app: str) -> None:
    in_app = R.UserAppIDSet(user_id=user.ids.user_id, app_id=app)
    answer = user("MyScopes", user_app_id=in_app)
    assert (list(answer.scopes), answer.app.id) == (["All"], app)
    assert list(user("MyScopesUser").scopes) == ["All"]


# -- the unchanged published SDK (where clarifai 12.5.0 is installed) ---------------------------------


def test_the_published_sdk_creates_lists_and_deletes_compute(emu: Emulator, user: Api, app: str) -> None:
    published = pytest.importorskip("clarifai.client.user")
    User = published.User

    base = f"http://{emu.address}"
    me = User(user_id=emu.user_id, pat=KEY, base_url=base)
    cluster_id, nodepool_id, deployment_id = _id("cc"), _id("np"), _id("dep")
    cluster = me.create_compute_cluster(
        compute_cluster_id=cluster_id,
        compute_cluster_config={
            "compute_cluster": {
                "cloud_provider": {"id": "aws"},
                "region": "us-east-1",
                "managed_by": "clarifai",
                "cluster_type": "dedicated",
                "visibility": {"gettable": 10},
            }
        },
    )
    assert cluster.id == cluster_id
    assert cluster_id in [c.id for c in me.list_compute_clusters()]
    nodepool = me.compute_cluster(cluster_id).create_nodepool(
        nodepool_id=nodepool_id,
        nodepool_config={
            "nodepool": {
                "compute_cluster": {"id": cluster_id},
                "instance_types": [{"id": "cpu-t3a-small", "compute_info": {"cpu_limit": "2"}}],
                "node_capacity_type": {"capacity_types": [1]},
                "min_instances": 0,
                "max_instances": 1,
                "visibility": {"gettable": 10},
            }
        },
    )
    assert nodepool.id == nodepool_id
    assert [n.id for n in me.compute_cluster(cluster_id).list_nodepools()] == [nodepool_id]
    model = _model(user, app)
    deployment = nodepool.create_deployment(
        deployment_id=deployment_id,
        deployment_config={
            "deployment": {
                "scheduling_choice": 3,
                "worker": {"model": {"id": model.id, "app_id": app, "user_id": emu.user_id}},
                "nodepools": [{"id": nodepool_id, "compute_cluster": {"id": cluster_id}}],
                "autoscale_config": {"min_replicas": 0, "max_replicas": 1},
                "deploy_latest_version": True,
            }
        },
    )
    assert deployment.id == deployment_id
    assert [d.id for d in nodepool.list_deployments()] == [deployment_id]
    stored = user("GetDeployment", deployment_id=deployment_id).deployment
    assert (stored.scheduling_choice, stored.autoscale_config.max_replicas) == (3, 1)
    nodepool.delete_deployments([deployment_id])
    me.compute_cluster(cluster_id).delete_nodepools([nodepool_id])
    me.delete_compute_clusters([cluster_id])
    assert cluster_id not in [c.id for c in me.list_compute_clusters()]
