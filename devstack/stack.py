"""The whole system on one machine: Postgres, Redis, an SMTP sink, the services of
``edge.service_table`` with their Celery workers and outbox relays, and nginx in front.
``make run``, the end-to-end tests and the bench start it with this same code.

The launcher sets up (the private Postgres' cluster, databases and roles, signing keys,
migrations, the demo data, nginx's configuration); supervisord runs the processes.
"""

import mailbox
import os
import secrets
import shutil
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack import mail_sink
from devstack.errors import StackError
from devstack.gateway import (
    AUTH_CACHE_SECONDS,
    CATALOG_VERSION_LEASE_SECONDS,
    ORDER_INTAKE_BURST,
    ORDER_INTAKE_PER_S,
    render_gateway,
)
from devstack.infra import (
    CACHE,
    Postgres,
    Redis,
    claim_runtime_dir,
    ensure_port_free,
    free_port,
    remembered,
    remove_runtime_dirs_under,
)
from devstack.processes import Command, last_line, run, wait_until
from devstack.supervisor import BIN, REPLICA_NUMBER, Program, Supervisor
from edge.messaging.signing import key_pair, public_key_of
from edge.service_table import (
    FLOWER,
    FLOWER_PORT,
    FLOWER_URL_PREFIX,
    GATEWAY_INTERNAL_PORT,
    GATEWAY_PORT,
    RELAY,
    SERVICES,
    WEB,
    WORKER,
    Service,
    service_named,
)

ROOT = Path(__file__).resolve().parent.parent
DEMO_STAFF_EMAIL = "staff@example.com"
# Gateway replicas on one machine take the ports after the table's: no more than fit between
# the public and the internal port.
MAX_GATEWAYS = GATEWAY_INTERNAL_PORT - GATEWAY_PORT


@dataclass
class StackConfig:
    state_dir: Path = ROOT / ".stack"
    # Where the gateway and the services listen: this machine only, unless told otherwise
    # (DEVSTACK_LISTEN_ADDRESS=0.0.0.0 opens them to the network).
    listen_address: str = "127.0.0.1"
    # Every port of the service table moved by this much, so the end-to-end and bench stacks
    # run beside `make run` (and beside each other's checkouts).
    port_offset: int = 0
    # Existing servers to use instead of private ones (DATABASE_URL is an admin connection).
    database_url: str | None = None
    redis_url: str | None = None
    # Each service's own connection to that Redis, as its own user (devstack/hosts.py); without
    # them every service uses redis_url.
    redis_service_urls: dict[str, str] = field(default_factory=dict)
    # The same for the Redis of the caches (REDIS_CACHE_URL): a server of their own, whose keys
    # are evicted when it is full, never the broker's (devstack/infra.py says why).
    redis_cache_url: str | None = None
    redis_cache_service_urls: dict[str, str] = field(default_factory=dict)
    # An SMTP server to send to (on this host unless smtp_address names another); without one
    # the stack runs its own sink that keeps every message.
    smtp_port: int | None = None
    smtp_address: str | None = None
    # The network namespace its processes run in: a host of its own (devstack/hosts.py).
    netns: str | None = None
    # Migrate each service's database and load the demo data; a second host of the same
    # system, on the same databases, leaves that to the first.
    migrate: bool = True
    # Prefixes database and role names, so a test stack on a shared server keeps to its own.
    database_prefix: str = ""
    # How long a task lost with its worker waits in Redis before it is delivered again.
    visibility_timeout: int = 30
    access_token_lifetime: int = 900
    demo_data: bool = True
    # The demo staff account's password; by default one made on the first run and kept in the
    # state folder, so no password of the repository opens a stack.
    demo_staff_password: str | None = None
    # gunicorn worker processes per service (more for those named here), and each Celery
    # worker's concurrency.
    web_workers: int = 2
    web_workers_by_service: dict[str, int] = field(default_factory=dict)
    worker_concurrency: int = 2
    # How many copies of each service's process of a kind run ("web", "worker", "relay"; 1 if
    # not named). Web replicas share the service's port (SO_REUSEPORT: the kernel spreads the
    # connections), so the gateway's upstreams stay as they are.
    replicas: dict[str, int] = field(default_factory=dict)
    # How many gateways (nginx) run, each with its own configuration, cache and ports: the
    # first on the table's gateway port, the next on the port after it...
    gateways: int = 1
    # The internal addresses (host:port) of the system's gateways on other hosts, which catalog
    # tells its cache version as it tells this stack's own (devstack/hosts.py).
    peer_gateways: list[str] = field(default_factory=list)
    # Proxies in front of the gateways whose X-Forwarded-For names the client (addresses or
    # networks; GATEWAY_TRUSTED_PROXIES, as in compose and Kubernetes): none by default.
    trusted_proxies: list[str] = field(default_factory=list)
    # Orders each gateway takes in a second over all customers, and how many more at once
    # (GATEWAY_ORDER_INTAKE_PER_S and _BURST in compose and Kubernetes).
    order_intake: tuple[int, int] = (ORDER_INTAKE_PER_S, ORDER_INTAKE_BURST)
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for role, count in self.replicas.items():
            if role not in (WEB, WORKER, RELAY) or count < 1:
                raise StackError(
                    f"replicas: {role}={count} is not a count of 1 or more of {WEB}, {WORKER} or {RELAY}"
                )
        if not 1 <= self.gateways <= MAX_GATEWAYS:
            raise StackError(f"gateways: {self.gateways} is not a count from 1 to {MAX_GATEWAYS}")

    def replicas_of(self, role: str) -> int:
        return self.replicas.get(role, 1)

    @property
    def local_address(self) -> str:
        """The address the stack's own processes reach each other at."""
        return "127.0.0.1" if self.listen_address in ("0.0.0.0", "::") else self.listen_address  # noqa: S104

    @property
    def gateway_port(self) -> int:
        """The first gateway's port."""
        return GATEWAY_PORT + self.port_offset

    @property
    def gateway_ports(self) -> list[int]:
        return [GATEWAY_PORT + self.port_offset + number for number in range(self.gateways)]

    @property
    def gateway_internal_ports(self) -> list[int]:
        """Where each gateway takes catalog's cache version."""
        return [GATEWAY_INTERNAL_PORT + self.port_offset + number for number in range(self.gateways)]

    @property
    def gateway_internal_addresses(self) -> list[str]:
        return [f"{self.local_address}:{port}" for port in self.gateway_internal_ports]

    @property
    def gateway_names(self) -> list[str]:
        """The gateways' programs: ``nginx``, or ``nginx-1``, ``nginx-2``... for several."""
        if self.gateways == 1:
            return ["nginx"]
        return [f"nginx-{number}" for number in range(1, self.gateways + 1)]

    def service_port(self, name: str) -> int:
        return service_named(name).port + self.port_offset

    @property
    def flower_port(self) -> int:
        return FLOWER_PORT + self.port_offset

    def database_name(self, service: str) -> str:
        """The database (and role) of one service on this stack's Postgres."""
        return f"{self.database_prefix}{service}"

    @classmethod
    def from_environment(cls, **overrides: object) -> "StackConfig":
        """DATABASE_URL and REDIS_URL name servers to use; DEVSTACK_STATE_DIR and
        DEVSTACK_PORT_OFFSET run a second stack beside the first (README.md says more)."""
        values: dict[str, object] = {
            "database_url": os.environ.get("DATABASE_URL"),
            "redis_url": os.environ.get("REDIS_URL"),
            "redis_cache_url": os.environ.get("REDIS_CACHE_URL"),
        }
        if os.environ.get("DEVSTACK_STATE_DIR"):
            values["state_dir"] = Path(os.environ["DEVSTACK_STATE_DIR"]).resolve()
        if os.environ.get("DEVSTACK_LISTEN_ADDRESS"):
            values["listen_address"] = os.environ["DEVSTACK_LISTEN_ADDRESS"]
        if os.environ.get("DEVSTACK_PORT_OFFSET"):
            values["port_offset"] = int(os.environ["DEVSTACK_PORT_OFFSET"])
        if os.environ.get("DEVSTACK_REPLICAS"):
            values["replicas"] = _replicas(os.environ["DEVSTACK_REPLICAS"])
        if os.environ.get("DEVSTACK_GATEWAYS"):
            values["gateways"] = int(os.environ["DEVSTACK_GATEWAYS"])
        if os.environ.get("GATEWAY_TRUSTED_PROXIES"):
            values["trusted_proxies"] = os.environ["GATEWAY_TRUSTED_PROXIES"].replace(",", " ").split()
        return cls(**{**values, **overrides})


def backups_dir(state: Path) -> Path:
    """Where ``make backup`` keeps a stack's backups, one folder each."""
    return state / "backups"


def remove_stack_data(state: Path) -> None:
    """Remove everything a stack keeps in its state folder, and its runtime folders, but its
    backups: they are there to outlive the data."""
    remove_runtime_dirs_under(state)
    if not state.exists():
        return
    for entry in state.iterdir():
        if entry == backups_dir(state):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def demo_staff_password_file(state: Path) -> Path:
    """Where a stack keeps the demo staff account's password it made (readable by its owner only)."""
    return state / "demo-staff-password"


def kept_demo_staff_password(state: Path) -> str:
    """The password made for the demo staff account on a stack's first run, the same on the next."""
    return remembered(demo_staff_password_file(state), lambda: secrets.token_urlsafe(12))


def _replicas(text: str) -> dict[str, int]:
    """``worker=2,relay=2``, as DEVSTACK_REPLICAS gives it."""
    try:
        return {role.strip(): int(count) for role, count in (pair.split("=") for pair in text.split(","))}
    except ValueError:
        raise StackError(f"DEVSTACK_REPLICAS={text!r}: write it as worker=2,relay=2") from None


# What every host of one system must hold alike, each in its own state folder: the services'
# database passwords and Django secret keys, auth's signing keys, the key that seals secrets
# between auth and notify, and each service's event signing key.
SHARED_SECRETS = ("passwords", "secret-keys", "keys", "seal-key", "event-keys")


def copy_secrets(source_state: Path, target_state: Path) -> None:
    """Give a second host of a system the first's secrets, as a deployment hands each host
    its copy: without them it would set passwords of its own on the shared databases."""
    for name in SHARED_SECRETS:
        source = source_state / name
        if source.is_dir():
            shutil.copytree(source, target_state / name, dirs_exist_ok=True)
        elif source.exists():
            shutil.copy2(source, target_state / name)


def program_name(service: Service, role: str) -> str:
    return f"{service.name}-{role}"


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.state = config.state_dir
        self.state.mkdir(parents=True, exist_ok=True)
        self.logs = self.state / "logs"
        self.runtime = claim_runtime_dir(self.state)
        self.postgres = Postgres(self.state, self.runtime, config.database_url, config.local_address)
        self.redis = Redis(
            self.state, config.redis_url, config.local_address, service_urls=config.redis_service_urls
        )
        self.redis_cache = Redis(
            self.state,
            config.redis_cache_url,
            config.local_address,
            kind=CACHE,
            service_urls=config.redis_cache_service_urls,
        )
        self.supervisor = Supervisor(self.state, self.logs, config.netns)
        # What the stack sets for each service's processes, and their whole environment.
        self.service_settings: dict[str, dict[str, str]] = {}
        self.service_env: dict[str, dict[str, str]] = {}
        # The programs supervisord runs, by name, and variables added to some (the bench's).
        self.programs: dict[str, Program] = {}
        self.environment_overrides: dict[str, dict[str, str]] = {}

    @property
    def demo_staff_password_file(self) -> Path:
        return demo_staff_password_file(self.state)

    @property
    def demo_staff_password(self) -> str:
        """The configured one, else the one made on the first run and kept for the next."""
        return self.config.demo_staff_password or kept_demo_staff_password(self.state)

    @property
    def gateway_url(self) -> str:
        """The first gateway's address."""
        return self.gateway_urls[0]

    @property
    def gateway_urls(self) -> list[str]:
        return [f"http://{self.config.local_address}:{port}" for port in self.config.gateway_ports]

    def service_url(self, name: str) -> str:
        """A service's own address, past the gateway."""
        return f"http://{self.config.local_address}:{self.config.service_port(name)}"

    @property
    def mail_dir(self) -> Path:
        return self.state / "mail"

    @property
    def base_env(self) -> dict[str, str]:
        """The environment of supervisord and so of every process it runs. DEVSTACK_STATE_DIR
        marks each of them as this stack's."""
        return {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
            "DEVSTACK_STATE_DIR": str(self.state),
        }

    # --- start -------------------------------------------------------------------------
    def start(self) -> "Stack":
        try:
            self.set_up()
            self.start_services()
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def set_up(self) -> None:
        """All before the services' processes start: supervisord with what the stack runs of
        Postgres, Redis and the SMTP sink, then each service's database and static files."""
        self._check_ports_free()
        self.start_infrastructure()
        if self.config.migrate:
            print("Migrating each service's database and loading the demo data...", flush=True)
        self.prepare_services()

    def _check_ports_free(self) -> None:
        for port in (
            *self.config.gateway_ports,
            *self.config.gateway_internal_ports,
            *(self.config.service_port(s.name) for s in SERVICES),
            self.config.flower_port,
        ):
            ensure_port_free(port, self.config.local_address)

    def start_data(self) -> None:
        """supervisord with Postgres, the two Redis and the SMTP sink, those not given: all a data host
        runs, and what a whole stack starts first."""
        programs = [*self.postgres.prepare(self.logs), *self.redis.prepare(), *self.redis_cache.prepare()]
        if self.config.smtp_port is None:
            self.config.smtp_port = int(remembered(self.state / "smtp-port", free_port))
            ensure_port_free(self.config.smtp_port, self.config.local_address)
            mailbox.Maildir(self.mail_dir, create=True)
            programs.append(
                Program(
                    "smtp",
                    mail_sink.command(self.config.smtp_port, self.mail_dir, self.config.local_address),
                    directory=ROOT,
                    priority=20,
                )
            )
        self.programs = {program.name: program for program in programs}
        self.supervisor.start(self.programs.values(), self.base_env)
        self.postgres.wait_ready(self.supervisor)
        self.redis.wait_ready(self.supervisor)
        self.redis_cache.wait_ready(self.supervisor)

    def start_infrastructure(self) -> None:
        """``start_data``, then each service's database and settings."""
        self.start_data()
        for service in SERVICES:
            self.service_settings[service.name] = self.settings_for(service.name)
            self.service_env[service.name] = {**self.base_env, **self.service_settings[service.name]}

    def ensure_signing_keys(self) -> Path:
        """auth's key directory (its alone): ``<kid>.pem`` and ``current`` (the kid it signs with).
        The other services learn the public keys from auth's JWKS; ``manage.py rotate_signing_key``
        adds the next key."""
        private_dir = self.state / "keys" / "private"
        if not (private_dir / "current").exists():
            private_dir.mkdir(parents=True, exist_ok=True)
            private_dir.chmod(0o700)
            kid = f"k{secrets.token_hex(6)}"
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            private_path = private_dir / f"{kid}.pem"
            private_path.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            private_path.chmod(0o600)
            (private_dir / "current").write_text(kid)
        return private_dir

    def event_signing_key(self, name: str) -> str:
        """The private key one service signs its events with (edge.messaging.signing), made once."""
        return remembered(self.state / "event-keys" / name, lambda: key_pair()[0])

    def settings_for(self, name: str) -> dict[str, str]:
        """What the stack sets for one service's processes (a service of the table, or edge's
        own tests): its database, Redis, keys and the other services' addresses."""
        private_keys = self.ensure_signing_keys()
        database = self.config.database_name(name)
        password = remembered(self.state / "passwords" / name, lambda: secrets.token_hex(12))
        own_names = list(dict.fromkeys(["127.0.0.1", "localhost", self.config.local_address]))
        settings = {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": remembered(
                self.state / "secret-keys" / name, lambda: secrets.token_urlsafe(40)
            ),
            "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "false"),
            # Plain http on this machine: cookies Secure only on a request that came over https.
            "DJANGO_HTTPS": "false",
            "DJANGO_STATIC_ROOT": str(self.state / "static" / name),
            "DATABASE_URL": self.postgres.ensure_database(database, password),
            "REDIS_URL": self.redis.url_for(name),
            "REDIS_CACHE_URL": self.redis_cache.url_for(name),
            "CELERY_VISIBILITY_TIMEOUT": str(self.config.visibility_timeout),
            # Every address is this host's own: another host's 127.0.0.1 is not this one.
            "DJANGO_ALLOWED_HOSTS": ",".join(own_names),
            "JWT_JWKS_URL": f"{self.service_url('auth')}/api/auth/.well-known/jwks.json",
            "TOKEN_CHECK_URL": f"{self.service_url('auth')}/internal/verify",
            # The gateways reach the services from this host's address: only they name the client.
            "GATEWAY_ADDRESSES": self.config.local_address,
            "CSRF_TRUSTED_ORIGINS": ",".join(
                f"http://{name}:{port}" for name in own_names for port in self.config.gateway_ports
            ),
            "ACCESS_TOKEN_LIFETIME_SECONDS": str(self.config.access_token_lifetime),
            "EMAIL_URL": f"smtp://{self.config.smtp_address or self.config.local_address}:{self.config.smtp_port}",
            "CATALOG_API_URL": f"{self.service_url('catalog')}/api/catalog/",
            # Where catalog pushes its cache version: every gateway's internal port, this
            # host's and the others'.
            "CATALOG_GATEWAYS": ",".join(
                [*self.config.gateway_internal_addresses, *self.config.peer_gateways]
            ),
            "CATALOG_GATEWAY_LEASE_SECONDS": str(CATALOG_VERSION_LEASE_SECONDS),
            # Seals secrets between auth and notify (edge.sealing); the other services ignore it.
            "EDGE_SEAL_KEYS": remembered(self.state / "seal-key", lambda: Fernet.generate_key().decode()),
            # Its own key signs what it sends; the producers' public keys check what it receives.
            "EVENT_SIGNING_KEY": self.event_signing_key(name),
            "EVENT_VERIFY_KEYS": ",".join(
                f"{service.name}={public_key_of(self.event_signing_key(service.name))}"
                for service in SERVICES
                if service.produces
            ),
            **self.config.extra_env,
        }
        if name == "auth":
            settings["JWT_PRIVATE_KEY_DIR"] = str(private_keys)
            # Links in emails (password reset) point at the gateway, never at a request's Host.
            settings["PUBLIC_BASE_URL"] = self.gateway_url
        return settings

    def environment_for(self, name: str) -> dict[str, str]:
        """The whole environment of one service's processes (and of its own tests)."""
        return {**self.base_env, **self.settings_for(name)}

    def manage(self, service: str, *args: str, environment: dict[str, str] | None = None) -> None:
        run(
            Command(
                f"{service}-{args[0]}",
                [str(BIN / "python"), "manage.py", *args],
                ROOT / service_named(service).directory,
                {**self.service_env[service], **(environment or {})},
                netns=self.config.netns,
            ),
            log_dir=self.logs,
        )

    def prepare_services(self) -> None:
        """Migrate (``config.migrate``) and collect static files of every service at once, then
        load the demo data."""
        steps = ("migrate", "collectstatic") if self.config.migrate else ("collectstatic",)
        run(
            *(
                Command(
                    f"{service.name}-{step}",
                    [str(BIN / "python"), "manage.py", step, "--noinput"],
                    ROOT / service.directory,
                    self.service_env[service.name],
                    netns=self.config.netns,
                )
                for service in SERVICES
                for step in steps
            ),
            log_dir=self.logs,
        )
        if self.config.migrate and self.config.demo_data:
            self.manage(
                "auth",
                "ensure_staff_user",
                "--email",
                DEMO_STAFF_EMAIL,
                "--password",
                self.demo_staff_password,
            )
            # The gateways start after it: none runs yet to be told the new cache version.
            self.manage("catalog", "load_demo_catalog", environment={"CATALOG_GATEWAYS": ""})

    def metrics_dir(self, service: str) -> Path:
        """Where every process of one service on this host writes its metrics, which its web
        process's /metrics sums (edge.metrics): emptied at each start."""
        return self.runtime / "metrics" / service

    def start_services(self) -> None:
        """Each service's processes where the table has them, and nginx; supervisord starts them."""
        for service in SERVICES:
            shutil.rmtree(self.metrics_dir(service.name), ignore_errors=True)
            self.metrics_dir(service.name).mkdir(parents=True)
            for role in service.processes:
                program = self.service_program(service, role)
                self.programs[program.name] = program
        self.programs[FLOWER] = self.flower_program()
        self.programs.update(self.gateway_programs())
        self.supervisor.apply(self._programs_with_overrides())

    def service_argv(self, service: str, role: str) -> list[str]:
        replicated = self.config.replicas_of(role) > 1
        if role == WEB:
            return [
                str(BIN / "gunicorn"),
                "config.wsgi",
                "--config",
                "python:edge.gunicorn",
                "--bind",
                f"{self.config.listen_address}:{self.config.service_port(service)}",
                "--workers",
                str(self.config.web_workers_by_service.get(service, self.config.web_workers)),
                "--graceful-timeout",
                "5",
                # Each replica's gunicorn binds the same port.
                *(["--reuse-port"] if replicated else []),
            ]
        if role == WORKER:
            return [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "-Q",
                service_named(service).queue,
                "-n",
                # Each replica a node of its own, so Celery's remote control reaches every one.
                f"{service}-{REPLICA_NUMBER}@%h" if replicated else f"{service}@%h",
                "--concurrency",
                str(self.config.worker_concurrency),
                "--loglevel",
                self.service_env[service].get("LOG_LEVEL", "INFO"),
                "--without-gossip",
                "--without-mingle",
            ]
        if role == RELAY:
            return [str(BIN / "python"), "manage.py", "relay_outbox"]
        raise ValueError(f"no process {role!r}")

    def service_program(self, service: Service, role: str) -> Program:
        return Program(
            program_name(service, role),
            self.service_argv(service.name, role),
            directory=ROOT / service.directory,
            environment={
                **self.service_settings[service.name],
                "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir(service.name)),
            },
            replicas=self.config.replicas_of(role),
        )

    def flower_program(self) -> Program:
        """Flower, on its own port behind the gateway's /admin/flower/ (the staff check is the
        gateway's: it asks no password of its own), with its own user on the broker."""
        return Program(
            FLOWER,
            [
                str(BIN / "celery"),
                "-A",
                "edge.flower",
                "flower",
                f"--address={self.config.listen_address}",
                f"--port={self.config.flower_port}",
                f"--url_prefix={FLOWER_URL_PREFIX}",
                # The workers' task events would cost every task three more messages (README).
                "--enable_events=False",
            ],
            directory=ROOT,
            environment={
                # In the environment, not on the command line that every user's ps shows.
                "CELERY_BROKER_URL": self.redis.url_for(FLOWER),
                # Its API (the pages' refreshes) answers without a login of its own.
                "FLOWER_UNAUTHENTICATED_API": "true",
            },
        )

    def gateway_programs(
        self,
        *,
        auth_cache_seconds: int = AUTH_CACHE_SECONDS,
        catalog_cache: bool = True,
        order_intake: tuple[int, int] | None = None,
        static_site: tuple[str, Path] | None = None,
    ) -> dict[str, Program]:
        """Each gateway's program, by name: its own configuration folder, cache, logs and ports.
        The first one also serves ``static_site`` (``render_gateway`` says what it is)."""
        config = self.config
        upstreams = {s.name: f"{config.local_address}:{config.service_port(s.name)}" for s in SERVICES}
        upstreams[FLOWER] = f"{config.local_address}:{config.flower_port}"
        return {
            name: render_gateway(
                name,
                self.runtime / name,
                self.logs,
                upstreams=upstreams,
                listen=f"{config.listen_address}:{port}",
                internal_listen=f"{config.listen_address}:{internal_port}",
                auth_cache_seconds=auth_cache_seconds,
                catalog_cache=catalog_cache,
                order_intake=order_intake or config.order_intake,
                trusted_proxies=config.trusted_proxies,
                static_site=static_site if name == config.gateway_names[0] else None,
                netns=config.netns,
            )
            for name, port, internal_port in zip(
                config.gateway_names, config.gateway_ports, config.gateway_internal_ports, strict=True
            )
        }

    def _programs_with_overrides(self) -> list[Program]:
        return [
            replace(program, environment={**program.environment, **overrides})
            if (overrides := self.environment_overrides.get(name))
            else program
            for name, program in self.programs.items()
        ]

    # --- while it runs -------------------------------------------------------------------
    def stop_process(self, name: str) -> None:
        """Stop one program (``catalog-web``, ``redis``...), every replica of it, until
        ``start_process``."""
        self.supervisor.ctl("stop", f"{name}:*")

    def start_process(self, name: str) -> None:
        self.supervisor.ctl("start", f"{name}:*")

    def restart_with_environment(self, name: str, variables: dict[str, str]) -> None:
        """Run one program again with these variables added to its environment (none: as
        configured), through supervisord: its configuration changes, ``update`` restarts it."""
        self.environment_overrides[name] = variables
        self.supervisor.apply(self._programs_with_overrides())
        self.wait_healthy()

    def restart_gateway(
        self,
        *,
        auth_cache_seconds: int = AUTH_CACHE_SECONDS,
        catalog_cache: bool = True,
        order_intake: tuple[int, int] | None = None,
        static_site: tuple[str, Path] | None = None,
    ) -> None:
        self.programs.update(
            self.gateway_programs(
                auth_cache_seconds=auth_cache_seconds,
                catalog_cache=catalog_cache,
                order_intake=order_intake,
                static_site=static_site,
            )
        )
        for name in self.config.gateway_names:
            self.supervisor.ctl("restart", name)
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 90) -> None:
        urls = [f"{self.service_url(service.name)}/api/{service.name}/health/" for service in SERVICES]
        urls.extend(f"{url}/healthz" for url in self.gateway_urls)
        if FLOWER in self.programs:
            urls.append(
                f"http://{self.config.local_address}:{self.config.flower_port}/{FLOWER_URL_PREFIX}/healthcheck"
            )
        for url in urls:
            wait_until(lambda url=url: self._answers_ok(url), timeout=timeout, what=url)

    def _answers_ok(self, url: str) -> bool:
        given_up = [name for name, info in self.supervisor.states().items() if info["statename"] == "FATAL"]
        if given_up:
            raise StackError(
                "; ".join(
                    f"{name} keeps exiting: {last_line(self.logs / f'{name}.log')}"
                    f" (all of it: {self.logs / f'{name}.log'})"
                    for name in given_up
                )
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    # --- stop --------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop every process: supervisord stops them all (nginx first, Postgres last)."""
        self.supervisor.stop()
