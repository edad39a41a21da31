"""The nginx gateway of the local stack: nginx/gateway.conf.template rendered with the
service table's upstreams, and the nginx.conf around it."""

import shutil
import string
from pathlib import Path

from devstack.infra import installed
from devstack.processes import Command, run
from devstack.supervisor import Program
from edge.service_table import SERVICE_NAMES

NGINX_SOURCES = Path(__file__).resolve().parent.parent / "nginx"
JS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so"
# The gateway's cache of token checks (nginx/gateway.conf.template says why that is safe).
AUTH_CACHE_SECONDS = 5


def template_values(
    *, upstreams: dict[str, str], listen: str, auth_cache_seconds: int, catalog_cache: bool
) -> dict[str, str]:
    """The template's variables that depend on the services: one upstream per service of the
    table, and the names its routes match. compose.yml's nginx environment says the same for
    the containers."""
    return {
        # nginx's listen: an address and port, or a port alone for every address (compose).
        "GATEWAY_LISTEN": listen,
        "SERVICE_NAMES": "|".join(SERVICE_NAMES),
        **{f"{name.upper()}_UPSTREAM": address for name, address in upstreams.items()},
        "AUTH_CACHE_ZONE": "auth_verify" if auth_cache_seconds else "off",
        "AUTH_CACHE_SECONDS": str(auth_cache_seconds or 1),
        "CATALOG_CACHE_ZONE": "catalog_pages" if catalog_cache else "off",
    }


def render_gateway(
    nginx_dir: Path,
    logs: Path,
    *,
    upstreams: dict[str, str],
    listen: str,
    catalog_cache_version_file: Path,
    auth_cache_seconds: int = AUTH_CACHE_SECONDS,
    catalog_cache: bool = True,
    netns: str | None = None,
) -> Program:
    """Write nginx's configuration, check it (``nginx -t``), and return the program that runs it.

    The gateway caches the token check's answers for ``auth_cache_seconds`` (0: not at all),
    and with ``catalog_cache`` public catalog answers."""
    nginx = installed("nginx", "nginx", "/usr/sbin/nginx")
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"):
        (nginx_dir / "temp" / temp).mkdir(parents=True, exist_ok=True)
        # nginx's workers run as www-data.
        (nginx_dir / "temp" / temp).chmod(0o777)
    logs.mkdir(parents=True, exist_ok=True)
    for include in ("proxy_headers.conf", "catalog_cache.js"):
        shutil.copy(NGINX_SOURCES / include, nginx_dir / include)
    template = string.Template((NGINX_SOURCES / "gateway.conf.template").read_text())
    (nginx_dir / "gateway.conf").write_text(
        template.safe_substitute(
            **template_values(
                upstreams=upstreams,
                listen=listen,
                auth_cache_seconds=auth_cache_seconds,
                catalog_cache=catalog_cache,
            ),
            NGINX_INCLUDE_DIR=str(nginx_dir),
            NGINX_ACCESS_LOG=str(logs / "nginx-access.log"),
            NGINX_CACHE_DIR=str(nginx_dir / "temp" / "cache"),
            CATALOG_CACHE_VERSION_FILE=str(catalog_cache_version_file),
        )
    )
    (nginx_dir / "nginx.conf").write_text(f"""\
load_module {JS_MODULE};
worker_processes 2;
pid {nginx_dir}/nginx.pid;
error_log {logs}/nginx-error.log warn;
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
    argv = [nginx, "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf")]
    # Where it will run: the check binds the listen address.
    run(Command("nginx-check", [*argv, "-t", "-q"], cwd=nginx_dir, netns=netns), log_dir=logs)
    return Program("nginx", argv, directory=nginx_dir, priority=200)
