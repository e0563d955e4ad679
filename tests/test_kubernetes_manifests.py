"""deploy/kubernetes: valid for the Kubernetes API, and hardened the way the catalog teaches.

No cluster runs here, so the manifests are checked as data: against the Kubernetes OpenAPI
schemas that kubernetes-validate ships (offline, strict: an unknown field is an error), and by
walking every pod template for the hardening the security stage of the seed describes.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "deploy" / "kubernetes"
KUSTOMIZATION = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
MANIFEST_FILES = sorted(p for p in MANIFESTS.glob("*.yaml") if p.name != "kustomization.yaml")

# The oldest Kubernetes these manifests are written for (the namespace pins Pod Security
# Admission to it) and the newest whose schemas kubernetes-validate 1.37.0 ships.
KUBERNETES_VERSIONS = ("1.33", "1.37")
OLDEST_KUBERNETES = KUBERNETES_VERSIONS[0]

APP_IMAGE = "registry.example.org/kubelearn/kubelearn"
APP_COMPONENTS = ("web", "worker", "beat", "migrate", "seed")
SECRET_VARIABLES = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL")
POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
COMPONENT = "app.kubernetes.io/component"


def _objects() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in MANIFEST_FILES:
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found.append((path.name, document))
    return found


OBJECTS = _objects()


def _pod_template(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod template of anything that makes pods, whatever its kind."""
    if obj["kind"] == "Pod":
        return obj
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    return obj.get("spec", {}).get("template")


POD_TEMPLATES = [
    (f"{name}:{obj['kind']}/{obj['metadata']['name']}", obj, template)
    for name, obj in OBJECTS
    if obj["kind"] in POD_KINDS and (template := _pod_template(obj)) is not None
]
TEMPLATE_IDS = [label for label, _, _ in POD_TEMPLATES]
APP_TEMPLATES = [
    entry for entry in POD_TEMPLATES if entry[2]["metadata"]["labels"][COMPONENT] in APP_COMPONENTS
]
APP_TEMPLATE_IDS = [label for label, _, _ in APP_TEMPLATES]
NETWORK_POLICIES = [obj for _, obj in OBJECTS if obj["kind"] == "NetworkPolicy"]


def _by_kind(kind: str) -> list[dict[str, Any]]:
    return [obj for _, obj in OBJECTS if obj["kind"] == kind]


def _one(kind: str, name: str) -> dict[str, Any]:
    (found,) = [obj for obj in _by_kind(kind) if obj["metadata"]["name"] == name]
    return found


def _containers(pod: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = pod["spec"]
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def _template_of(component: str) -> dict[str, Any]:
    (template,) = [
        t for _, _, t in POD_TEMPLATES if t["metadata"]["labels"][COMPONENT] == component
    ]
    return template


# --- The files and the kustomization ------------------------------------------------------


def test_kustomization_lists_every_manifest_file_and_only_those():
    listed = KUSTOMIZATION["resources"]
    assert sorted(listed) == [p.name for p in MANIFEST_FILES]
    assert len(listed) == len(set(listed))


def test_kustomization_pins_the_app_image_to_an_exact_tag():
    (image,) = KUSTOMIZATION["images"]
    assert image["name"] == APP_IMAGE
    pinned = image.get("digest") or image.get("newTag")
    assert pinned and pinned != "latest"


@pytest.fixture
def no_network(monkeypatch):
    """The schemas must come from the installed package: any socket use is a failure."""

    def refuse(*args, **kwargs):
        raise AssertionError("kubernetes-validate tried to use the network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_validates_against_the_kubernetes_schemas_offline(version, no_network):
    assert len(OBJECTS) >= 20
    for name, obj in OBJECTS:
        label = f"{name}:{obj['kind']}/{obj['metadata']['name']}"
        try:
            validated = kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{label}: {exc.message} at {'/'.join(map(str, exc.path))}")
        assert validated == version, label


def test_the_validator_rejects_unknown_fields_and_wrong_types():
    """Proof the check above can fail: strict mode refuses a typo'd or mistyped field."""
    deployment = _one("Deployment", "web")
    typo = yaml.safe_load(yaml.safe_dump(deployment))
    container = typo["spec"]["template"]["spec"]["containers"][0]
    container["securityContxt"] = container.pop("securityContext")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, OLDEST_KUBERNETES, strict=True)
    wrong_type = yaml.safe_load(yaml.safe_dump(deployment))
    wrong_type["spec"]["template"]["spec"]["securityContext"]["runAsUser"] = "10001"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong_type, OLDEST_KUBERNETES, strict=True)


# --- Every pod template ---------------------------------------------------------------------


def test_pod_templates_are_found_for_every_workload():
    components = {t["metadata"]["labels"][COMPONENT] for _, _, t in POD_TEMPLATES}
    assert set(APP_COMPONENTS) <= components
    assert {"postgresql", "redis"} <= components


@pytest.mark.parametrize(("label", "obj", "pod"), POD_TEMPLATES, ids=TEMPLATE_IDS)
def test_pod_runs_as_a_fixed_non_root_user_with_the_default_seccomp_profile(label, obj, pod):
    context = pod["spec"]["securityContext"]
    assert context["runAsNonRoot"] is True
    assert isinstance(context["runAsUser"], int) and context["runAsUser"] > 0
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in _containers(pod):
        own = container.get("securityContext", {})
        assert own.get("runAsUser", context["runAsUser"]) > 0, container["name"]
        assert own.get("seccompProfile", context["seccompProfile"]) == {"type": "RuntimeDefault"}


@pytest.mark.parametrize(("label", "obj", "pod"), POD_TEMPLATES, ids=TEMPLATE_IDS)
def test_every_container_is_locked_down(label, obj, pod):
    for container in _containers(pod):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"], container["name"]
        assert not context["capabilities"].get("add"), container["name"]
        assert not context.get("privileged"), container["name"]


@pytest.mark.parametrize(("label", "obj", "pod"), POD_TEMPLATES, ids=TEMPLATE_IDS)
def test_pod_has_no_api_token_and_the_dedicated_service_account(label, obj, pod):
    spec = pod["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["serviceAccountName"] == "kubelearn"
    for shared in ("hostNetwork", "hostPID", "hostIPC"):
        assert not spec.get(shared), shared


@pytest.mark.parametrize(("label", "obj", "pod"), POD_TEMPLATES, ids=TEMPLATE_IDS)
def test_every_container_has_cpu_and_memory_requests_and_limits(label, obj, pod):
    for container in _containers(pod):
        resources = container["resources"]
        for bound in ("requests", "limits"):
            assert set(resources[bound]) >= {"cpu", "memory"}, (container["name"], bound)


@pytest.mark.parametrize(("label", "obj", "pod"), POD_TEMPLATES, ids=TEMPLATE_IDS)
def test_every_image_is_pinned_to_an_exact_tag_or_digest(label, obj, pod):
    for container in _containers(pod):
        image = container["image"]
        if "@sha256:" in image:
            assert re.fullmatch(r"[^@\s]+@sha256:[0-9a-f]{64}", image), image
            continue
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag, f"{image} has no tag"
        assert tag != "latest", image
        # An exact version, not a moving major/minor tag such as `16` or `7.4`.
        assert re.fullmatch(r"v?\d+\.\d+\.\d+([-.][\w.]+)?|v?\d+\.\d+(-[\w.]+)?", tag), image
        assert re.search(r"\d+\.\d+", tag), image


@pytest.mark.parametrize(("label", "obj", "pod"), POD_TEMPLATES, ids=TEMPLATE_IDS)
def test_writable_mounts_are_pod_scoped_volumes_only(label, obj, pod):
    """With a read-only root, writes go to emptyDirs or the pod's own claim, never the host."""
    claims = {c["metadata"]["name"] for c in obj["spec"].get("volumeClaimTemplates", [])}
    volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
    for volume in volumes.values():
        assert "hostPath" not in volume, volume["name"]
    for container in _containers(pod):
        for mount in container.get("volumeMounts", []):
            if mount["name"] in claims:
                continue
            assert "emptyDir" in volumes[mount["name"]], (container["name"], mount["name"])


@pytest.mark.parametrize(("label", "obj", "pod"), APP_TEMPLATES, ids=APP_TEMPLATE_IDS)
def test_app_pods_run_as_the_dockerfile_user(label, obj, pod):
    uid = int(re.search(r"useradd [^\n]*--uid (\d+)", (ROOT / "Dockerfile").read_text())[1])
    assert pod["spec"]["securityContext"]["runAsUser"] == uid == 10001
    for container in _containers(pod):
        assert container["image"].startswith(APP_IMAGE + ":"), container["name"]
        # /tmp and KUBELEARN_VAR_DIR are the app's only writable folders (settings, tempfile).
        var_dir = _one("ConfigMap", "kubelearn-config")["data"]["KUBELEARN_VAR_DIR"]
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        # S108 is about creating temp files; this is the path inside the container's filesystem.
        assert {"/tmp", var_dir} <= mounts, container["name"]  # noqa: S108


@pytest.mark.parametrize("component", ["web", "worker"])
def test_pods_that_load_or_fit_models_mount_model_dir_on_a_disk_backed_emptydir(component):
    """Web processes map the fitted model from MODEL_DIR and workers write it there: with a
    read-only root it must be a mount of its own, on disk (its pages are shared page cache,
    not memory the pod's limit counts twice)."""
    pod = _template_of(component)
    model_dir = _one("ConfigMap", "kubelearn-config")["data"]["MODEL_DIR"]
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    for container in pod["spec"]["containers"]:
        (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == model_dir]
        volume = volumes[mount["name"]]
        assert "emptyDir" in volume and "medium" not in volume["emptyDir"], container["name"]
        assert not mount.get("readOnly"), container["name"]


@pytest.mark.parametrize(("label", "obj", "pod"), APP_TEMPLATES, ids=APP_TEMPLATE_IDS)
def test_app_containers_take_their_secrets_by_reference(label, obj, pod):
    for container in _containers(pod):
        env = {item["name"]: item for item in container["env"]}
        for variable in SECRET_VARIABLES:
            assert "value" not in env[variable], (container["name"], variable)
            reference = env[variable]["valueFrom"]["secretKeyRef"]
            assert reference == {"name": "kubelearn", "key": variable}
        assert container["envFrom"] == [{"configMapRef": {"name": "kubelearn-config"}}]


def test_no_secret_values_are_in_the_manifests():
    assert not _by_kind("Secret")
    config = _one("ConfigMap", "kubelearn-config")["data"]
    for variable in (*SECRET_VARIABLES, "CURATOR_PASSWORD", "POSTGRES_PASSWORD", "REDIS_PASSWORD"):
        assert variable not in config
    for _, _, pod in POD_TEMPLATES:
        for container in _containers(pod):
            for item in container.get("env", []):
                if re.search(r"PASSWORD|SECRET|_URL$|AUTH", item["name"]):
                    assert "secretKeyRef" in item["valueFrom"], (container["name"], item["name"])


def test_service_account_has_no_rbac_rights_and_no_token():
    (account,) = _by_kind("ServiceAccount")
    assert account["metadata"]["name"] == "kubelearn"
    assert account["automountServiceAccountToken"] is False
    for kind in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"):
        assert not _by_kind(kind), kind


def test_namespace_enforces_the_restricted_pod_security_standard():
    (namespace,) = _by_kind("Namespace")
    labels = namespace["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == f"v{OLDEST_KUBERNETES}"
    assert all(obj["metadata"].get("namespace", "kubelearn") == "kubelearn" for _, obj in OBJECTS)
    assert KUSTOMIZATION["namespace"] == namespace["metadata"]["name"] == "kubelearn"


# --- Workloads ------------------------------------------------------------------------------


def test_beat_is_exactly_one_pod_replaced_by_recreate():
    beat = _one("Deployment", "beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert not [
        h
        for h in _by_kind("HorizontalPodAutoscaler")
        if h["spec"]["scaleTargetRef"]["name"] == "beat"
    ]
    assert _command(_template_of("beat"))[:4] == ["celery", "-A", "kubelearn", "beat"]


def _command(pod: dict[str, Any]) -> list[str]:
    (container,) = pod["spec"]["containers"]
    return [*container.get("command", []), *container.get("args", [])]


def test_each_workload_runs_its_command():
    assert _command(_template_of("web"))[:2] == ["gunicorn", "kubelearn.wsgi:application"]
    assert _command(_template_of("worker"))[:4] == ["celery", "-A", "kubelearn", "worker"]
    assert "manage.py migrate --noinput" in " ".join(_command(_template_of("migrate")))
    assert "manage.py load_seed_catalog" in " ".join(_command(_template_of("seed")))


@pytest.mark.parametrize("component", ["web", "worker", "beat", "seed"])
def test_pods_wait_for_the_migration_job(component):
    (init,) = _template_of(component)["spec"]["initContainers"]
    assert "manage.py migrate --check" in " ".join(init["args"])


def test_web_is_ready_on_the_database_check_and_alive_on_a_cheap_one():
    (web,) = _template_of("web")["spec"]["containers"]
    readiness = web["readinessProbe"]["httpGet"]
    liveness = web["livenessProbe"]["httpGet"]
    assert readiness["path"] == "/healthz/"
    assert liveness["path"] != "/healthz/"
    # The cheap check is a static file that the image's collectstatic step includes.
    assert liveness["path"].startswith(settings.STATIC_URL)
    assert finders.find(liveness["path"].removeprefix(settings.STATIC_URL))
    allowed_hosts = _one("ConfigMap", "kubelearn-config")["data"]["ALLOWED_HOSTS"].split(",")
    for probe in (readiness, liveness):
        headers = {h["name"]: h["value"] for h in probe["httpHeaders"]}
        assert headers["Host"] in allowed_hosts
        assert headers["X-Forwarded-Proto"] == "https"  # or SECURE_SSL_REDIRECT answers 301


def test_worker_shutdown_outlasts_the_task_time_limit():
    grace = _template_of("worker")["spec"]["terminationGracePeriodSeconds"]
    assert grace > settings.CELERY_TASK_TIME_LIMIT


def test_web_and_worker_scale_horizontally_and_survive_drains():
    autoscalers = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in _by_kind("HorizontalPodAutoscaler")
    }
    assert set(autoscalers) == {"web", "worker"}
    assert autoscalers["web"]["spec"]["minReplicas"] >= 3
    assert autoscalers["worker"]["spec"]["minReplicas"] >= 2
    for name in ("web", "worker"):
        # The autoscaler owns the count; a fixed one would be reset by every apply.
        assert "replicas" not in _one("Deployment", name)["spec"]
        budget = _one("PodDisruptionBudget", name)
        assert budget["spec"]["selector"] == _one("Deployment", name)["spec"]["selector"]


# --- Network policies -----------------------------------------------------------------------


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _policies_for(labels: dict[str, str], direction: str) -> list[dict[str, Any]]:
    return [
        p
        for p in NETWORK_POLICIES
        if direction in p["spec"]["policyTypes"] and _selects(p["spec"]["podSelector"], labels)
    ]


def _rules(labels: dict[str, str], direction: str) -> list[dict[str, Any]]:
    key = direction.lower()
    return [rule for p in _policies_for(labels, direction) for rule in p["spec"].get(key, [])]


def _labels(component: str) -> dict[str, str]:
    return _template_of(component)["metadata"]["labels"]


def test_default_deny_selects_every_pod_in_both_directions():
    (deny,) = [p for p in NETWORK_POLICIES if p["metadata"]["name"] == "default-deny-all"]
    assert deny["spec"]["podSelector"] == {}
    assert sorted(deny["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]


@pytest.mark.parametrize(("label", "obj", "pod"), POD_TEMPLATES, ids=TEMPLATE_IDS)
def test_every_workload_has_a_network_policy_of_its_own(label, obj, pod):
    labels = pod["metadata"]["labels"]
    own = [
        p
        for p in NETWORK_POLICIES
        if p["spec"]["podSelector"] and _selects(p["spec"]["podSelector"], labels)
    ]
    assert own, f"no NetworkPolicy selects {label} specifically"


def test_web_accepts_connections_from_the_ingress_controller_only():
    (rule,) = _rules(_labels("web"), "Ingress")
    (peer,) = rule["from"]
    assert peer["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
    }
    assert peer["podSelector"]["matchLabels"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8000}]


@pytest.mark.parametrize("component", ["worker", "beat", "migrate", "seed"])
def test_pods_that_serve_nothing_accept_no_connections(component):
    assert _rules(_labels(component), "Ingress") == []


@pytest.mark.parametrize("component", ["postgresql", "redis"])
def test_data_stores_accept_only_the_app_and_send_nothing(component):
    (rule,) = _rules(_labels(component), "Ingress")
    (peer,) = rule["from"]
    assert set(peer) == {"podSelector"}
    for app in APP_COMPONENTS:
        assert _selects(peer["podSelector"], _labels(app)), app
    assert not _selects(
        peer["podSelector"], _labels("redis" if component == "postgresql" else "postgresql")
    )
    assert _rules(_labels(component), "Egress") == []


@pytest.mark.parametrize("component", APP_COMPONENTS)
def test_app_reaches_postgresql_redis_and_dns(component):
    reached = set()
    for rule in _rules(_labels(component), "Egress"):
        for peer in rule.get("to", []):
            if "ipBlock" in peer:
                continue
            ports = {(p["protocol"], p["port"]) for p in rule["ports"]}
            if "namespaceSelector" in peer:
                assert peer["namespaceSelector"]["matchLabels"] == {
                    "kubernetes.io/metadata.name": "kube-system"
                }
                assert peer["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
                assert ports == {("UDP", 53), ("TCP", 53)}
                reached.add("dns")
                continue
            for store in ("postgresql", "redis"):
                if _selects(peer["podSelector"], _labels(store)):
                    reached.add(store)
            assert reached, peer
    assert reached == {"dns", "postgresql", "redis"}


def _ip_blocks(component: str) -> list[tuple[dict[str, Any], set[tuple[str, int]]]]:
    blocks = []
    for rule in _rules(_labels(component), "Egress"):
        for peer in rule.get("to", []):
            if "ipBlock" in peer:
                blocks.append(
                    (peer["ipBlock"], {(p["protocol"], p["port"]) for p in rule["ports"]})
                )
    return blocks


def _egress_allows(component: str, address: str, port: int) -> bool:
    ip = ipaddress.ip_address(address)
    for block, ports in _ip_blocks(component):
        network = ipaddress.ip_network(block["cidr"])
        if ip.version != network.version or ip not in network or ("TCP", port) not in ports:
            continue
        if not any(ip in ipaddress.ip_network(c) for c in block.get("except", [])):
            return True
    return False


@pytest.mark.parametrize("component", ["beat", "migrate", "seed"])
def test_only_the_feed_fetchers_reach_beyond_the_cluster(component):
    assert _ip_blocks(component) == []
    assert not _egress_allows(component, "93.184.215.14", 443)


# Addresses a feed must never reach: every one is refused by catalog/feeds/address.py (checked
# below, so this list cannot drift from the code) and must be refused by the network too.
FORBIDDEN_ADDRESSES = [
    "10.1.2.3",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "127.0.0.1",
    "0.0.0.1",
    "169.254.169.254",  # cloud metadata service
    "169.254.170.2",  # ECS task metadata
    "192.0.2.10",
    "198.18.0.1",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "fd12:3456::1",
    "fe80::1",
    "ff02::1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "2001:db8::1",
]
PUBLIC_ADDRESSES = ["93.184.215.14", "1.1.1.1", "151.101.1.69", "2606:4700:4700::1111"]


@pytest.mark.parametrize("component", ["worker", "web"])
@pytest.mark.parametrize("address", FORBIDDEN_ADDRESSES)
def test_feed_fetchers_cannot_reach_what_the_fetcher_refuses(component, address):
    from catalog.feeds.address import UnsafeURLError, check_url

    host = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeURLError):
        check_url(f"http://{host}/feed.xml", allow_private_networks=False)
    for port in (80, 443):
        assert not _egress_allows(component, address, port), (address, port)


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_the_worker_reaches_public_addresses_on_http_and_https_only(address):
    assert _egress_allows("worker", address, 80)
    assert _egress_allows("worker", address, 443)
    assert not _egress_allows("worker", address, 22)
    assert not _egress_allows("worker", address, 6379)


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_web_reaches_no_stranger_at_all(address):
    # Adding a feed queues its check for a worker (202): web has no reason to call out.
    for port in (80, 443):
        assert not _egress_allows("web", address, port)


def test_redis_evicts_only_expiring_cache_keys_and_stays_under_its_limit():
    """The cache may lose keys, the Celery queues (which never expire) must not."""
    (redis,) = _template_of("redis")["spec"]["containers"]
    script = " ".join(redis["args"])
    assert "--maxmemory-policy volatile-lru" in script
    cap = int(re.search(r"--maxmemory (\d+)mb", script)[1])
    limit = redis["resources"]["limits"]["memory"]
    assert limit.endswith("Mi") and cap < int(limit.removesuffix("Mi"))
    # The password reaches redis-server on stdin (a here-document), never on its command line.
    assert "redis-server - " in script and "<<EOF" in script and "--requirepass" not in script


# --- The walkthrough ------------------------------------------------------------------------


def test_the_walkthrough_covers_every_manifest_file():
    walkthrough = (ROOT / "docs" / "kubernetes.md").read_text()
    for path in MANIFEST_FILES:
        assert f"`{path.name}`" in walkthrough, path.name


def test_the_walkthrough_is_a_security_resource_in_the_seed_catalog():
    seed = yaml.safe_load((ROOT / "fixtures" / "seed_catalog.yaml").read_text())
    (entry,) = [r for r in seed["resources"] if r["key"] == "kubelearn-on-kubernetes"]
    assert entry["stage"] == "security"
    areas = {a["slug"] for a in seed["security_areas"]}
    assert {"rbac", "network-policy", "secrets", "admission-control"} <= set(
        entry["security_areas"]
    )
    assert set(entry["security_areas"]) <= areas
    walkthrough = (ROOT / "docs" / "kubernetes.md").read_text()
    for area in entry["security_areas"]:
        assert f"[{area}]" in walkthrough, area
