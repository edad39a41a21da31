"""The whole system on one machine: Postgres, Redis, an SMTP sink, four services, their
Celery workers and outbox relays, and nginx in front. ``make run`` and the end-to-end
tests start it with this same code.
"""

import mailbox
import os
import secrets
import shutil
import signal
import string
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack import mail_sink
from devstack.infra import Postgres, Redis, free_port, port_is_open, remembered
from devstack.processes import Process, run, wait_until

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVICES = ("auth", "catalog", "orders", "notify")
DEMO_STAFF_EMAIL = "staff@example.com"
DEMO_STAFF_PASSWORD = "demo-staff-password"
# The gateway's cache of token checks (nginx/gateway.conf.template says why that is safe).
AUTH_CACHE_SECONDS = 5


@dataclass
class StackConfig:
    state_dir: Path = ROOT / ".stack"
    gateway_port: int = 8080
    service_ports: dict[str, int] = field(
        default_factory=lambda: {"auth": 8001, "catalog": 8002, "orders": 8003, "notify": 8004}
    )
    # Existing servers to use instead of private ones (DATABASE_URL is an admin connection).
    database_url: str | None = None
    redis_url: str | None = None
    # An SMTP server to send to; without one the stack runs its own sink that keeps every message.
    smtp_port: int | None = None
    # Prefixes database and role names, so a test stack on a shared server keeps to its own.
    database_prefix: str = ""
    # How long a task lost with its worker waits in Redis before it is delivered again.
    visibility_timeout: int = 30
    access_token_lifetime: int = 900
    demo_data: bool = True
    # gunicorn worker processes per service, and each Celery worker's concurrency.
    web_workers: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SERVICES, 2))
    worker_concurrency: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, **overrides: object) -> "StackConfig":
        return cls(
            database_url=os.environ.get("DATABASE_URL"), redis_url=os.environ.get("REDIS_URL"), **overrides
        )


def service_dir(service: str) -> Path:
    return ROOT / f"{service}_service"


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.state = config.state_dir
        self.state.mkdir(parents=True, exist_ok=True)
        self.logs = self.state / "logs"
        self.postgres = Postgres(self.state, config.database_url)
        self.redis = Redis(self.state, config.redis_url)
        self.processes: dict[str, Process] = {}
        self.service_env: dict[str, dict[str, str]] = {}
        # Processes stopped on purpose; every other one that exits is started again.
        self._held: set[str] = set()
        self._lock = threading.RLock()
        self._supervising = threading.Event()

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.config.gateway_port}"

    @property
    def mail_dir(self) -> Path:
        return self.state / "mail"

    # --- start -------------------------------------------------------------------------
    def start(self) -> "Stack":
        try:
            self._check_ports_free()
            self.start_infrastructure()
            self.prepare_services()
            self.start_services()
            self.start_gateway()
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        self._supervising.set()
        threading.Thread(target=self._supervise, name="devstack-supervisor", daemon=True).start()
        return self

    def _supervise(self) -> None:
        """Start again any process that exited on its own, as compose's restart policy does.

        A Celery worker, for one, exits when it loses Redis at the wrong moment.
        """
        while self._supervising.is_set():
            time.sleep(1.0)
            with self._lock:
                for name, process in list(self.processes.items()):
                    if name not in self._held and not process.running and self._supervising.is_set():
                        print(
                            f"devstack: {name} exited ({process.popen.returncode}); starting it again",
                            file=sys.stderr,
                            flush=True,
                        )
                        process.start()

    def _check_ports_free(self) -> None:
        ports = [self.config.gateway_port, *self.config.service_ports.values()]
        taken = [port for port in ports if port_is_open(port)]
        if taken:
            raise RuntimeError(f"ports {taken} are taken: is another stack running?")

    def start_infrastructure(self) -> None:
        self.postgres.start()
        self.redis.start()
        if self.config.smtp_port is None:
            self.config.smtp_port = int(remembered(self.state / "smtp-port", free_port))
            mailbox.Maildir(self.mail_dir, create=True)
            self._spawn(
                "smtp", mail_sink.command(self.config.smtp_port, self.mail_dir), ROOT, dict(os.environ)
            )
        for service in SERVICES:
            self.service_env[service] = self.environment_for(service)

    def ensure_signing_keys(self) -> tuple[Path, Path]:
        """auth's key directories: ``private/<kid>.pem`` and ``current`` (the kid it signs with),
        ``public/<kid>.pem`` for every service. ``manage.py rotate_signing_key`` adds the next one."""
        keys = self.state / "keys"
        public_dir, private_dir = keys / "public", keys / "private"
        if not (private_dir / "current").exists():
            public_dir.mkdir(parents=True, exist_ok=True)
            private_dir.mkdir(parents=True, exist_ok=True)
            private_dir.chmod(0o700)
            kid = f"k{secrets.token_hex(6)}"
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            (public_dir / f"{kid}.pem").write_bytes(
                key.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
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
        return public_dir, private_dir

    @property
    def catalog_cache_version_file(self) -> Path:
        """Where catalog tells the gateway its cache version."""
        return self.state / "catalog-cache-version"

    def environment_for(self, service: str) -> dict[str, str]:
        """The environment of one service's processes (and of its own tests)."""
        public_keys, private_keys = self.ensure_signing_keys()
        name = f"{self.config.database_prefix}{service}"
        password = remembered(self.state / "passwords" / service, lambda: secrets.token_hex(12))
        origins = f"http://127.0.0.1:{self.config.gateway_port},http://localhost:{self.config.gateway_port}"
        env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": remembered(
                self.state / "secret-keys" / service, lambda: secrets.token_urlsafe(40)
            ),
            "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "false"),
            "DJANGO_STATIC_ROOT": str(self.state / "static" / service),
            "DATABASE_URL": self.postgres.ensure_database(name, password),
            "REDIS_URL": self.redis.url,
            "CELERY_VISIBILITY_TIMEOUT": str(self.config.visibility_timeout),
            "JWT_PUBLIC_KEY_PATH": str(public_keys),
            "CSRF_TRUSTED_ORIGINS": origins,
            "ACCESS_TOKEN_LIFETIME_SECONDS": str(self.config.access_token_lifetime),
            "EMAIL_URL": f"smtp://127.0.0.1:{self.config.smtp_port}",
            "CATALOG_API_URL": f"http://127.0.0.1:{self.config.service_ports['catalog']}/api/catalog/",
            "CATALOG_CACHE_VERSION_FILE": str(self.catalog_cache_version_file),
            **self.config.extra_env,
        }
        if service == "auth":
            env["JWT_PRIVATE_KEY_DIR"] = str(private_keys)
            # Links in emails (password reset) point at the gateway, never at a request's Host.
            env["PUBLIC_BASE_URL"] = self.gateway_url
        return env

    def manage(self, service: str, *args: str) -> str:
        return run(
            [str(BIN / "python"), "manage.py", *args], cwd=service_dir(service), env=self.service_env[service]
        )

    def prepare_services(self) -> None:
        """Migrate and collect static files of all four at once, then load the demo data."""
        steps = [
            Process(
                f"{service}-{step[0]}",
                [str(BIN / "python"), "manage.py", *step, "--noinput"],
                service_dir(service),
                self.service_env[service],
                self.logs / f"{service}-prepare.log",
            )
            for service in SERVICES
            for step in (("migrate",), ("collectstatic",))
        ]
        for step in steps:
            step.start()
        for step in steps:
            if step.popen.wait() != 0:
                raise RuntimeError(f"{step.name} failed:\n{step.log_tail()}")
        if self.config.demo_data:
            self.manage(
                "auth", "ensure_staff_user", "--email", DEMO_STAFF_EMAIL, "--password", DEMO_STAFF_PASSWORD
            )
            self.manage("catalog", "load_demo_catalog")

    def start_services(self) -> None:
        for service in SERVICES:
            self.start_service_process(service, "web")
            self.start_service_process(service, "worker")
            self.start_service_process(service, "relay")

    def service_argv(self, service: str, role: str) -> list[str]:
        if role == "web":
            return [
                str(BIN / "gunicorn"),
                "config.wsgi",
                "--config",
                "python:edge.gunicorn",
                "--bind",
                f"127.0.0.1:{self.config.service_ports[service]}",
                "--workers",
                str(self.config.web_workers[service]),
                "--graceful-timeout",
                "5",
            ]
        if role == "worker":
            return [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "-Q",
                service,
                "-n",
                f"{service}@%h",
                "--concurrency",
                str(self.config.worker_concurrency),
                "--loglevel",
                self.service_env[service].get("LOG_LEVEL", "INFO"),
                "--without-gossip",
                "--without-mingle",
            ]
        return [str(BIN / "python"), "manage.py", "relay_outbox"]

    def start_service_process(
        self, service: str, role: str, extra_env: dict[str, str] | None = None
    ) -> Process:
        return self._spawn(
            f"{service}-{role}",
            self.service_argv(service, role),
            service_dir(service),
            {**self.service_env[service], **(extra_env or {})},
        )

    def stop_service_process(self, service: str, role: str) -> None:
        name = f"{service}-{role}"
        with self._lock:
            self._held.add(name)
            self.processes[name].stop()

    def _spawn(self, name: str, argv: list[str], cwd: Path, env: dict[str, str]) -> Process:
        with self._lock:
            previous = self.processes.get(name)
            if previous is not None:
                previous.stop()
            process = Process(name, argv, cwd, env, self.logs / f"{name}.log").start()
            self.processes[name] = process
            self._held.discard(name)
            return process

    def start_gateway(
        self, *, auth_cache_seconds: int = AUTH_CACHE_SECONDS, catalog_cache: bool = True
    ) -> None:
        """nginx in front; it caches the token check's answers for ``auth_cache_seconds``
        (0: not at all), and with ``catalog_cache`` public catalog answers."""
        nginx_dir = self.state / "nginx"
        for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"):
            (nginx_dir / "temp" / temp).mkdir(parents=True, exist_ok=True)
            (nginx_dir / "temp" / temp).chmod(0o777)
        self.logs.mkdir(exist_ok=True)
        for include in ("proxy_headers.conf", "catalog_cache.js"):
            shutil.copy(ROOT / "nginx" / include, nginx_dir / include)
        ports = self.config.service_ports
        template = string.Template((ROOT / "nginx" / "gateway.conf.template").read_text())
        (nginx_dir / "gateway.conf").write_text(
            template.safe_substitute(
                GATEWAY_PORT=self.config.gateway_port,
                AUTH_UPSTREAM=f"127.0.0.1:{ports['auth']}",
                CATALOG_UPSTREAM=f"127.0.0.1:{ports['catalog']}",
                ORDERS_UPSTREAM=f"127.0.0.1:{ports['orders']}",
                NOTIFY_UPSTREAM=f"127.0.0.1:{ports['notify']}",
                NGINX_INCLUDE_DIR=str(nginx_dir),
                NGINX_ACCESS_LOG=str(self.logs / "nginx-access.log"),
                NGINX_CACHE_DIR=str(nginx_dir / "temp" / "cache"),
                AUTH_CACHE_ZONE="auth_verify" if auth_cache_seconds else "off",
                AUTH_CACHE_SECONDS=auth_cache_seconds or 1,
                CATALOG_CACHE_ZONE="catalog_pages" if catalog_cache else "off",
                CATALOG_CACHE_VERSION_FILE=str(self.catalog_cache_version_file),
            )
        )
        (nginx_dir / "nginx.conf").write_text(f"""\
load_module /usr/lib/nginx/modules/ngx_http_js_module.so;
worker_processes 2;
pid {nginx_dir}/nginx.pid;
error_log {self.logs}/nginx-error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {nginx_dir}/temp/client_body;
    proxy_temp_path {nginx_dir}/temp/proxy;
    fastcgi_temp_path {nginx_dir}/temp/fastcgi;
    uwsgi_temp_path {nginx_dir}/temp/uwsgi;
    scgi_temp_path {nginx_dir}/temp/scgi;
    include {nginx_dir}/gateway.conf;
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        run([nginx, "-t", "-q", "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf")])
        self._spawn(
            "nginx",
            [nginx, "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf")],
            nginx_dir,
            dict(os.environ),
        )

    def restart_gateway(
        self, *, auth_cache_seconds: int = AUTH_CACHE_SECONDS, catalog_cache: bool = True
    ) -> None:
        self.start_gateway(auth_cache_seconds=auth_cache_seconds, catalog_cache=catalog_cache)
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 90) -> None:
        urls = [
            f"http://127.0.0.1:{port}/api/{service}/health/"
            for service, port in self.config.service_ports.items()
        ]
        urls.append(f"{self.gateway_url}/healthz")
        for url in urls:
            wait_until(lambda url=url: self._answers_ok(url), timeout=timeout, what=url)

    def _answers_ok(self, url: str) -> bool:
        dead = [
            process
            for name, process in self.processes.items()
            if not process.running and name not in self._held and not self._supervising.is_set()
        ]
        if dead:
            raise RuntimeError("\n\n".join(f"{p.name} exited:\n{p.log_tail()}" for p in dead))
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    # --- stop --------------------------------------------------------------------------
    def stop(self) -> None:
        self._supervising.clear()
        processes = list(self.processes.values())
        # Ask everything to stop at once, then wait: stopping one by one takes minutes.
        for process in processes:
            process.signal(signal.SIGTERM)
        for process in processes:
            process.stop()
        self.processes.clear()
        self.redis.stop()
        self.postgres.stop()
