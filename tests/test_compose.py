"""Static checks of ``compose.yml``: no containers are started.

The file must follow the Compose Specification (its JSON schema is kept in ``tests/data/``),
run what the table of services says (``edge.service_table``: each service's processes, ports,
queues, health and environment, built from the one Dockerfile) and name no other service, and
run them as ``make run`` does (devstack: migrations first, the demo data, as many gunicorn
processes and worker threads); every image it builds must have its build context and Dockerfile
in the repository, every long-running process must report its health so that ``depends_on``
conditions can wait for it, each service the gateway reaches must keep its address (nginx looks
its name up once, at its start), and the files it mounts from the repository (the gateway's
template, the Postgres init script, ...) must exist.
"""

import ipaddress
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from devstack.stack import DEMO_STAFF_EMAIL, StackConfig
from edge.service_table import (
    FLOWER,
    FLOWER_PORT,
    GATEWAY_INTERNAL_PORT,
    RELAY,
    SERVICE_NAMES,
    SERVICES,
    WEB,
    WORKER,
    service_named,
)
from tests.deployments import GATEWAY_DERIVED_VARIABLES, Process, disagreements_with_the_table

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "compose.yml"
COMPOSE_SCHEMA = Path(__file__).resolve().parent / "data" / "compose-spec.json"

# The gateway, built from an image of its own (nginx/Dockerfile), not from the services' one.
GATEWAY = "nginx"
# The processes that serve HTTP: the gateway and each service's gunicorn.
WEB_SERVICES = (GATEWAY, *SERVICE_NAMES)
DEPENDENCY_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
# What the gateway image's envsubst fills in; it leaves variables it wasn't given as they are,
# and nginx then refuses to start on an unknown "$VARIABLE".
TEMPLATE_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
BIND = re.compile(r"(?:-b|--bind)[ =]0\.0\.0\.0:(\d+)")
QUEUES = re.compile(r"(?:-Q|--queues)[ =](\S+)")
HEALTH_URL = re.compile(r"http://[^/:'\"]+:(\d+)(/[^'\" ]*)")
DB_PASSWORD = re.compile(r"^([A-Z0-9_]+)_DB_PASSWORD$")
MIGRATE = re.compile(r"\bmanage\.py migrate\b")
GUNICORN_WORKERS = re.compile(r"(?:-w|--workers)[ =](\d+)")
CONCURRENCY = re.compile(r"(?:-c|--concurrency)[ =](\d+)")
NODE_NAME = re.compile(r"(?:-n|--hostname)[ =](\S+)@%h")
HEARTBEAT_FILE = re.compile(r"--heartbeat-file[ =](\S+)")


def load_compose() -> dict[str, Any]:
    with COMPOSE_FILE.open(encoding="utf-8") as compose_file:
        compose = yaml.safe_load(compose_file)
    assert isinstance(compose, dict), "compose.yml must hold a mapping"
    return compose


def services() -> dict[str, dict[str, Any]]:
    return load_compose()["services"]


def _text(command: str | list[str] | None) -> str:
    return " ".join(command) if isinstance(command, list) else (command or "")


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return environment


def _role(command: str) -> str | None:
    """WEB, WORKER or RELAY, as a command starts it; None for a one-off (migrations)."""
    if "relay_outbox" in command:
        return RELAY
    if re.search(r"\bcelery\b.*\bworker\b", command):
        return WORKER
    # Without a command of its own, a container runs the image's: gunicorn.
    if "gunicorn" in command or not command:
        return WEB
    return None


def one_offs() -> dict[str, dict[str, Any]]:
    """The containers built from the repository that run to completion: each service's migrations."""
    return {
        name: service
        for name, service in services().items()
        if "build" in service and _role(_text(service.get("command"))) is None
    }


def compose_processes() -> dict[str, Process]:
    """Every long-running process compose builds from the repository, as the table's checks read them."""
    processes = {}
    for name, service in services().items():
        if "build" not in service or name == GATEWAY:
            continue
        args = service["build"].get("args", {})
        command = _text(service.get("command"))
        health = HEALTH_URL.search(_text(service.get("healthcheck", {}).get("test")))
        role = _role(command)
        if role is None:
            continue
        # Without a command of its own, a web process runs the image's, which binds PORT.
        bind = BIND.search(command)
        port = int(bind.group(1)) if bind else int(args.get("PORT", 0)) if not command else None
        processes[name] = Process(
            service=str(args.get("SERVICE")),
            role=role,
            port=port if role == WEB else None,
            health=(health.group(2), int(health.group(1))) if health and role == WEB else None,
            queues=tuple(QUEUES.search(command).group(1).split(",")) if QUEUES.search(command) else (),
            environment=frozenset(_environment(service)),
        )
    return processes


def bind_mounts() -> list[tuple[str, Path, str]]:
    """(service, source on the host, target in the container) of every bind mount from the repo."""
    mounts: list[tuple[str, Path, str]] = []
    for name, service in services().items():
        for volume in service.get("volumes", []):
            if isinstance(volume, dict):
                if volume.get("type") != "bind":
                    continue
                source, target = volume["source"], volume["target"]
            else:
                source, target = volume.split(":")[:2]
                if not source.startswith((".", "/")):
                    continue  # a named volume
            mounts.append((name, (REPO / source).resolve(), target))
    return mounts


def mount_targeting(target: str) -> tuple[str, Path, str]:
    matches = [mount for mount in bind_mounts() if mount[2] == target]
    assert matches, f"no service mounts a file at {target}"
    return matches[0]


def test_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    assert "draft-07" in schema["$schema"], "the schema is no longer Draft 7: pick its validator"
    Draft7Validator.check_schema(schema)
    compose = load_compose()

    errors = sorted(Draft7Validator(schema).iter_errors(compose), key=lambda error: list(error.path))

    assert not errors, "\n".join(
        f"{'/'.join(str(part) for part in error.path) or '(top)'}: {error.message}" for error in errors
    )
    assert "version" not in compose, "the Compose Specification has no `version:`"


def test_every_built_image_has_its_context_and_dockerfile() -> None:
    built = {name: service["build"] for name, service in services().items() if "build" in service}
    assert built, "compose.yml builds no image"

    for name, build in built.items():
        if isinstance(build, str):
            build = {"context": build}
        context = (REPO / build.get("context", ".")).resolve()
        assert context.is_dir(), f"{name}: build context {context} is not a directory"
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: Dockerfile {dockerfile} does not exist"


def test_every_web_service_has_a_healthcheck() -> None:
    all_services = services()

    for name in WEB_SERVICES:
        assert name in all_services, f"no service {name}"
        healthcheck = all_services[name].get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        assert not healthcheck.get("disable", False), f"{name}'s healthcheck is disabled"
        test = healthcheck.get("test")
        assert test, f"{name}'s healthcheck has no test"
        assert test != ["NONE"], f"{name}'s healthcheck is switched off"


def test_every_dependency_names_a_service_and_a_condition() -> None:
    all_services = services()

    for name, service in all_services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs the long form, with conditions"
        for dependency, options in depends_on.items():
            assert dependency in all_services, f"{name} depends on {dependency}, which is no service"
            assert dependency != name, f"{name} depends on itself"
            condition = (options or {}).get("condition")
            assert condition in DEPENDENCY_CONDITIONS, f"{name} -> {dependency}: condition {condition!r}"
            if condition == "service_healthy":
                assert all_services[dependency].get("healthcheck"), (
                    f"{name} waits for {dependency} to be healthy, which has no healthcheck"
                )


def test_the_gateway_template_is_mounted_from_an_existing_file() -> None:
    service, source, _ = mount_targeting("/etc/nginx/templates/default.conf.template")

    assert service == "nginx"
    assert source.is_file(), f"nginx mounts {source}, which does not exist"


def test_the_gateway_template_gets_every_variable_it_uses() -> None:
    nginx = services()[GATEWAY]
    _, source, _ = mount_targeting("/etc/nginx/templates/default.conf.template")
    lines = source.read_text(encoding="utf-8").splitlines()
    used = {
        GATEWAY_DERIVED_VARIABLES.get(variable, variable)
        for line in lines
        if not line.lstrip().startswith("#")
        for variable in TEMPLATE_VARIABLE.findall(line)
    }

    missing = sorted(used - set(_environment(nginx)))

    assert not missing, f"the gateway template uses {missing}, which nginx's environment lacks"


def test_the_postgres_init_script_is_mounted_from_an_existing_file() -> None:
    matches = [
        (service, source)
        for service, source, target in bind_mounts()
        if target.startswith("/docker-entrypoint-initdb.d/")
    ]
    assert matches, "no init script is mounted into /docker-entrypoint-initdb.d/"

    for service, source in matches:
        assert service == "postgres"
        assert source.is_file(), f"postgres mounts {source}, which does not exist"
        assert source.suffix in {".sh", ".sql"}, f"the postgres image ignores {source.name}"


@pytest.mark.parametrize(
    ("service", "source", "target"),
    bind_mounts(),
    ids=lambda value: value.name if isinstance(value, Path) else str(value),
)
def test_every_bind_mount_comes_from_an_existing_path(service: str, source: Path, target: str) -> None:
    assert source.exists(), f"{service} mounts {source} at {target}, which does not exist"


def test_compose_runs_what_the_table_of_services_says_and_nothing_else() -> None:
    processes = compose_processes()
    assert processes, "compose.yml builds no service"

    problems = disagreements_with_the_table(processes)

    assert not problems, "\n".join(problems)


def test_every_service_is_built_from_the_one_dockerfile_with_its_table_arguments() -> None:
    for name, service in services().items():
        if "build" not in service or name == GATEWAY:
            continue
        build = service["build"]
        assert (REPO / build.get("context", ".")).resolve() == REPO, f"{name}: build context is not the root"
        assert build.get("dockerfile", "Dockerfile") == "Dockerfile", f"{name}: not the one Dockerfile"
        args = build.get("args", {})
        assert args.get("SERVICE") in SERVICE_NAMES, f"{name}: SERVICE {args.get('SERVICE')!r}"
        assert str(args.get("PORT")) == str(service_named(args["SERVICE"]).port), f"{name}: PORT"


def test_the_dockerfile_builds_any_service_of_the_table_and_no_other() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")

    assert re.search(r"^ARG SERVICE$", dockerfile, re.MULTILINE)
    assert re.search(r"^ARG PORT$", dockerfile, re.MULTILINE)
    assert "service_named('${SERVICE}').port == int('${PORT}')" in dockerfile
    assert not list(REPO.glob("*_service/Dockerfile")), "a service has a Dockerfile of its own again"


def test_the_gateway_reaches_each_service_and_flower_on_their_table_ports() -> None:
    nginx = services()[GATEWAY]
    upstreams = {
        host: int(port)
        for value in _environment(nginx).values()
        if (match := re.fullmatch(r"([a-z][a-z0-9-]*):(\d+)", str(value)))
        for host, port in [match.groups()]
        if host in services()
    }

    assert upstreams == {**{service.name: service.port for service in SERVICES}, FLOWER: FLOWER_PORT}
    assert set(nginx["depends_on"]) == {*SERVICE_NAMES, FLOWER}, "the gateway waits for every web process"


def fixed_address_problems(compose: dict[str, Any]) -> list[str]:
    """What would let a recreated container come back where the gateway no longer looks: nginx
    resolves each upstream (its ``*_UPSTREAM`` host) once, at its start, so each, and the gateway,
    must hold a fixed address (``ipv4_address``) of its own in a network's subnet, outside the
    range (``ip_range``) Docker hands out to the other containers, in one container."""
    all_services = compose["services"]
    subnets = {
        name: (
            ipaddress.ip_network(pool["subnet"]),
            ipaddress.ip_network(pool.get("ip_range", pool["subnet"])),
        )
        for name, network in (compose.get("networks") or {}).items()
        for pool in ((network or {}).get("ipam") or {}).get("config", [])
        if "subnet" in pool
    }
    upstreams = [
        value.rpartition(":")[0]
        for variable, value in _environment(all_services[GATEWAY]).items()
        if variable.endswith("_UPSTREAM")
    ]
    problems, taken = [], {}
    for name in [GATEWAY, *upstreams]:
        networks = all_services.get(name, {}).get("networks") or {}
        fixed = {
            network: (options or {}).get("ipv4_address")
            for network, options in (networks.items() if isinstance(networks, dict) else [])
            if (options or {}).get("ipv4_address")
        }
        if not fixed:
            problems.append(f"{name} has no fixed address: the gateway would lose it when it is recreated")
        for network, address in fixed.items():
            if network not in subnets:
                problems.append(f"{name}: the network {network} has no subnet of ours")
                continue
            subnet, handed_out = subnets[network]
            if ipaddress.ip_address(address) not in subnet:
                problems.append(f"{name}: {address} is outside {network}'s subnet {subnet}")
            elif ipaddress.ip_address(address) in handed_out:
                problems.append(f"{name}: {address} is in the range Docker hands out ({handed_out})")
            if address in taken:
                problems.append(f"{name} and {taken[address]} both take {address}")
            taken[address] = name
        if all_services.get(name, {}).get("deploy", {}).get("replicas", 1) != 1:
            problems.append(f"{name} runs more than one container on its one fixed address")
    return problems


def test_the_gateway_and_each_service_it_reaches_keep_their_addresses() -> None:
    problems = fixed_address_problems(load_compose())

    assert not problems, "\n".join(problems)


def _set_address(name: str, address: str) -> Callable[[dict[str, Any]], None]:
    return lambda compose: compose["services"][name]["networks"]["default"].update(ipv4_address=address)


@pytest.mark.parametrize(
    ("breaks", "expected"),
    [
        (lambda compose: compose["services"]["catalog"].pop("networks"), "catalog has no fixed address"),
        (_set_address("orders", "10.99.0.13"), "orders: 10.99.0.13 is outside"),
        (_set_address("auth", "10.210.80.200"), "auth: 10.210.80.200 is in the range Docker hands out"),
        (_set_address("notify", "10.210.80.10"), "notify and nginx both take 10.210.80.10"),
        (lambda compose: compose["networks"].clear(), "the network default has no subnet of ours"),
        (
            lambda compose: compose["services"]["auth"].update(deploy={"replicas": 2}),
            "auth runs more than one container",
        ),
    ],
    ids=["no fixed address", "outside the subnet", "in Docker's range", "taken twice", "no subnet", "scaled"],
)
def test_a_broken_fixed_address_is_found(breaks: Callable[[dict[str, Any]], None], expected: str) -> None:
    compose = load_compose()
    breaks(compose)

    problems = fixed_address_problems(compose)

    assert any(expected in problem for problem in problems), "\n".join(problems) or "no problem found"


def test_each_service_has_its_own_database_and_no_other_service_has_one() -> None:
    postgres = _environment(services()["postgres"])
    passwords = {match.group(1).lower() for key in postgres if (match := DB_PASSWORD.match(key))}

    assert passwords == set(SERVICE_NAMES)
    for name, process in compose_processes().items():
        url = _environment(services()[name])["DATABASE_URL"]
        assert re.fullmatch(rf"postgres://{process.service}:[^@]+@postgres:5432/{process.service}", url), name


def test_only_auths_web_process_holds_the_signing_keys_and_the_others_fetch_its_jwks() -> None:
    with_keys = {
        name
        for name, service in services().items()
        for volume in service.get("volumes", [])
        if isinstance(volume, str) and volume.startswith("jwt-keys:")
    }
    auth = service_named("auth")

    assert with_keys == {auth.name}
    for name, process in compose_processes().items():
        if process.service != auth.name:
            assert _environment(services()[name])["JWT_JWKS_URL"] == (
                f"http://{auth.name}:{auth.port}/api/auth/.well-known/jwks.json"
            ), name
            assert _environment(services()[name])["TOKEN_CHECK_URL"] == (
                f"http://{auth.name}:{auth.port}/internal/verify"
            ), name


def test_each_service_migrates_once_before_any_of_its_processes_starts() -> None:
    all_services, processes = services(), compose_processes()

    for service in SERVICES:
        name = f"{service.name}-migrate"
        assert name in one_offs(), f"no {name} runs {service.name}'s migrations"
        migrate = all_services[name]
        assert MIGRATE.search(_text(migrate["command"])), f"{name} does not run manage.py migrate"
        assert migrate["build"]["args"]["SERVICE"] == service.name
        assert migrate.get("restart", "no") == "no", f"{name} runs once: restarted, it would loop"
        for process_name, process in processes.items():
            if process.service == service.name:
                condition = all_services[process_name]["depends_on"].get(name, {}).get("condition")
                assert condition == "service_completed_successfully", (
                    f"{process_name} does not wait for {name}"
                )
                assert not MIGRATE.search(_text(all_services[process_name].get("command"))), (
                    f"{process_name} migrates too: its replicas would race each other"
                )


def test_compose_loads_the_demo_data_that_make_run_loads() -> None:
    auth = _text(services()["auth-migrate"]["command"])
    catalog = _text(services()["catalog-migrate"]["command"])

    assert re.search(rf"manage\.py ensure_staff_user --email {re.escape(DEMO_STAFF_EMAIL)} --password", auth)
    assert "DEMO_STAFF_PASSWORD" in _environment(services()["auth-migrate"])
    assert "manage.py load_demo_catalog" in catalog


def test_web_processes_and_workers_run_as_many_processes_and_threads_as_make_run() -> None:
    defaults = StackConfig.__dataclass_fields__
    web_workers, concurrency = defaults["web_workers"].default, defaults["worker_concurrency"].default

    for name, process in compose_processes().items():
        command = _text(services()[name].get("command"))
        if process.role == WEB:
            workers = GUNICORN_WORKERS.search(command)
            assert workers, f"{name}: gunicorn's --workers is not said"
            assert int(workers.group(1)) == web_workers, f"{name}: gunicorn --workers"
        if process.role == WORKER:
            threads = CONCURRENCY.search(command)
            assert threads, f"{name}: celery's --concurrency is not said"
            assert int(threads.group(1)) == concurrency, f"{name}: celery --concurrency"
            assert "--without-gossip" in command, name
            assert "--without-mingle" in command, name


def test_every_worker_and_relay_reports_its_own_health() -> None:
    for name, process in compose_processes().items():
        service = services()[name]
        command, health = _text(service.get("command")), _text(service.get("healthcheck", {}).get("test"))
        if process.role == WORKER:
            node = NODE_NAME.search(command)
            assert node, f"{name}: its Celery node needs a name its health check can ping"
            assert f"inspect ping -d {node.group(1)}@$$HOSTNAME" in health, f"{name} pings another node"
        if process.role == RELAY:
            heartbeat = HEARTBEAT_FILE.search(command)
            assert heartbeat, f"{name}: the relay touches no heartbeat file"
            assert heartbeat.group(1) in health, f"{name}'s health check reads another file"


def test_orders_reads_the_catalogs_api_at_the_catalogs_address() -> None:
    catalog = service_named("catalog")

    for name, process in compose_processes().items():
        if process.service == "orders":
            assert _environment(services()[name])["CATALOG_API_URL"] == (
                f"http://{catalog.name}:{catalog.port}/api/{catalog.name}/"
            ), name


def test_the_gateway_is_built_from_its_own_image_with_the_lua_module() -> None:
    build = services()[GATEWAY]["build"]
    dockerfile = (REPO / build["context"] / build.get("dockerfile", "Dockerfile")).read_text(encoding="utf-8")

    assert (REPO / build["context"]).resolve() == REPO / "nginx"
    assert "libnginx-mod-http-lua" in dockerfile


def test_catalog_pushes_its_cache_version_to_the_gateways_internal_port_which_is_not_published() -> None:
    gateway = _environment(services()[GATEWAY])
    catalog_processes = [
        name for name, process in compose_processes().items() if process.service == "catalog"
    ]

    assert gateway["GATEWAY_INTERNAL_LISTEN"] == str(GATEWAY_INTERNAL_PORT)
    assert not any(str(GATEWAY_INTERNAL_PORT) in str(port) for port in services()[GATEWAY].get("ports", []))
    for name in catalog_processes:
        catalog = _environment(services()[name])
        assert catalog["CATALOG_GATEWAYS"] == f"{GATEWAY}:{GATEWAY_INTERNAL_PORT}", name
        # catalog waits out the gateways' lease when one misses a push: never a shorter one.
        assert float(catalog["CATALOG_GATEWAY_LEASE_SECONDS"]) >= float(
            gateway["CATALOG_VERSION_LEASE_SECONDS"]
        )


def test_no_volume_is_shared_by_processes_of_different_images() -> None:
    users: dict[str, set[str]] = {}
    for name, service in services().items():
        image = service.get("image", name)
        for volume in service.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
            if not source.startswith((".", "/")):
                users.setdefault(source, set()).add(image)

    assert {volume: images for volume, images in users.items() if len(images) > 1} == {}
