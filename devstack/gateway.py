"""The nginx gateways of the local stack: nginx/gateway.conf.template rendered with the
service table's upstreams, and the nginx.conf around it, once per gateway replica."""

import shutil
import string
from collections.abc import Sequence
from pathlib import Path

from devstack.infra import installed
from devstack.processes import Command, run
from devstack.supervisor import Program
from edge.service_table import SERVICE_NAMES

NGINX_SOURCES = Path(__file__).resolve().parent.parent / "nginx"
# Debian's lua module (libnginx-mod-http-lua) needs the development kit loaded before it.
MODULES = (
    "/usr/lib/nginx/modules/ndk_http_module.so",
    "/usr/lib/nginx/modules/ngx_http_lua_module.so",
)
# The gateway's cache of token checks (nginx/gateway.conf.template says why that is safe).
AUTH_CACHE_SECONDS = 5
# How long a gateway trusts the catalog cache version it last polled, and so how long catalog
# holds a write's answer when a gateway did not take its push (nginx/catalog_version.lua).
CATALOG_VERSION_LEASE_SECONDS = 3
# Orders a gateway takes in a second over all customers, and how many more at once: the capacity
# `make bench` measures on the slowest machine the shop runs on (docs/capacity.md).
ORDER_INTAKE_PER_S = 50
ORDER_INTAKE_BURST = 10


def template_values(
    *,
    upstreams: dict[str, str],
    listen: str,
    internal_listen: str,
    auth_cache_seconds: int,
    catalog_cache: bool,
    order_intake: tuple[int, int] = (ORDER_INTAKE_PER_S, ORDER_INTAKE_BURST),
    trusted_proxies: Sequence[str] = (),
) -> dict[str, str]:
    """The template's variables that depend on the services: one upstream per service of the
    table, and the names its routes match. compose.yml's nginx environment says the same for
    the containers. ``trusted_proxies`` become the realip module's ``set_real_ip_from`` lines,
    as the gateway image's command makes them from ``GATEWAY_TRUSTED_PROXIES``."""
    return {
        # nginx's listen: an address and port, or a port alone for every address (compose).
        "GATEWAY_LISTEN": listen,
        "GATEWAY_INTERNAL_LISTEN": internal_listen,
        "SERVICE_NAMES": "|".join(SERVICE_NAMES),
        **{f"{name.upper()}_UPSTREAM": address for name, address in upstreams.items()},
        "AUTH_CACHE_ZONE": "auth_verify" if auth_cache_seconds else "off",
        "AUTH_CACHE_SECONDS": str(auth_cache_seconds or 1),
        "CATALOG_CACHE_ZONE": "catalog_pages" if catalog_cache else "off",
        "CATALOG_VERSION_LEASE_SECONDS": str(CATALOG_VERSION_LEASE_SECONDS),
        "GATEWAY_REAL_IP_FROM": "".join(f"set_real_ip_from {proxy}; " for proxy in trusted_proxies),
        "GATEWAY_ORDER_INTAKE_PER_S": str(order_intake[0]),
        "GATEWAY_ORDER_INTAKE_BURST": str(order_intake[1]),
    }


def render_gateway(
    name: str,
    nginx_dir: Path,
    logs: Path,
    *,
    upstreams: dict[str, str],
    listen: str,
    internal_listen: str,
    auth_cache_seconds: int = AUTH_CACHE_SECONDS,
    catalog_cache: bool = True,
    order_intake: tuple[int, int] = (ORDER_INTAKE_PER_S, ORDER_INTAKE_BURST),
    trusted_proxies: Sequence[str] = (),
    static_site: tuple[str, Path] | None = None,
    netns: str | None = None,
) -> Program:
    """Write one gateway's nginx configuration, check it (``nginx -t``), and return the program
    ``name`` that runs it.

    The gateway caches the token check's answers for ``auth_cache_seconds`` (0: not at all),
    and with ``catalog_cache`` public catalog answers. It takes in ``order_intake`` orders (a
    rate per second and a burst) over all customers, and refuses the rest. It believes the ``X-Forwarded-For`` of
    ``trusted_proxies`` alone (addresses or networks). ``static_site`` (a listen and a folder)
    adds a server of that folder's files to the same nginx, logged as the gateway logs and with
    its open-file cache: what this machine's nginx can serve at best (the bench's ceiling)."""
    nginx = installed("nginx", "nginx", "/usr/sbin/nginx")
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"):
        (nginx_dir / "temp" / temp).mkdir(parents=True, exist_ok=True)
        # nginx's workers run as www-data.
        (nginx_dir / "temp" / temp).chmod(0o777)
    logs.mkdir(parents=True, exist_ok=True)
    for include in ("proxy_headers.conf", "catalog_version.lua", "gateway_metrics.lua"):
        shutil.copy(NGINX_SOURCES / include, nginx_dir / include)
    template = string.Template((NGINX_SOURCES / "gateway.conf.template").read_text())
    (nginx_dir / "gateway.conf").write_text(
        template.safe_substitute(
            **template_values(
                upstreams=upstreams,
                listen=listen,
                internal_listen=internal_listen,
                auth_cache_seconds=auth_cache_seconds,
                catalog_cache=catalog_cache,
                order_intake=order_intake,
                trusted_proxies=trusted_proxies,
            ),
            NGINX_INCLUDE_DIR=str(nginx_dir),
            GATEWAY_ORDER_INTAKE_SOCKET=str(nginx_dir / "order-intake.sock"),
            NGINX_ACCESS_LOG=str(logs / f"{name}-access.log"),
            NGINX_CACHE_DIR=str(nginx_dir / "temp" / "cache"),
        )
    )
    modules = "".join(f"load_module {module};\n" for module in MODULES)
    static_server = ""
    if static_site:
        static_listen, static_root = static_site
        static_server = f"""
    server {{
        listen {static_listen};
        access_log {logs}/{name}-access.log gateway_json buffer=64k flush=1s;
        set $gateway_user_id "";
        root {static_root};
    }}"""
    (nginx_dir / "nginx.conf").write_text(f"""\
{modules}worker_processes 2;
pid {nginx_dir}/nginx.pid;
error_log {logs}/{name}-error.log warn;
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
    include {nginx_dir}/gateway.conf;{static_server}
}}
""")
    argv = [nginx, "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf")]
    # Where it will run: the check binds the listen addresses.
    run(Command(f"{name}-check", [*argv, "-t", "-q"], cwd=nginx_dir, netns=netns), log_dir=logs)
    return Program(name, argv, directory=nginx_dir, priority=200)
