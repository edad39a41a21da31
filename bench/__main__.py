"""``make bench``: starts the stack in its production settings, loads it on loopback, prints
one table and writes bench/results.json. Every figure comes from the same run, and each
comparison is a ratio of two figures measured side by side, so it holds on a noisy machine.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.cpu import cpu_per_unit, cpu_seconds_by_part, cpu_seconds_of, stack_cpu
from bench.pipeline import OrderLoad, capacity, machinery_floor, overload, steady_load
from bench.wrk import wrk
from devstack.infra import free_port
from devstack.stack import DEMO_STAFF_EMAIL, ROOT, Stack, StackConfig

BENCH_DIR = Path(__file__).resolve().parent
# The bench stack runs on the service table's ports moved by this much, beside `make run`.
PORT_OFFSET = 11000
PRODUCT_LIST = "/api/catalog/products/"
# Far past the gateway's token-check cache: a token working this long is not revoked at all.
REVOCATION_TIMEOUT_S = 30
GATEWAY_ROUNDS = 5
# The cached product list against the same body as a plain file: rounds that alternate the two.
CEILING_ROUNDS = 3
CEILING_FILE = "product-list.json"
# The Express peer's figures are the median of this many rounds: in two runs ten minutes apart,
# one round each, it served 4,510 and 3,154 req/s (336 and 483 µs of CPU per request) while the
# stack's CPU per order moved by 3%, and the peer's unit is what the pipeline's CPU is told in.
PEER_ROUNDS = 3
# Far above any rate of orders the bench sends.
UNLIMITED_ORDER_INTAKE = (10_000, 10_000)


def bench_config() -> StackConfig:
    return StackConfig.from_environment(
        state_dir=ROOT / ".stack" / "bench",
        port_offset=PORT_OFFSET,
        # Two cores: two processes of four threads per service; catalog gets a third process
        # for the uncached product list, which is all CPU and so gains nothing from threads.
        web_workers=2,
        web_workers_by_service={"catalog": 3},
        # Two threads per Celery worker, as deployed: with four, the threads' contention for the
        # interpreter cost 7% more CPU per order (51.4 against 47.7 ms at 30 orders/s) and p99
        # POST to confirmed rose from 72 to 185 ms.
        worker_concurrency=2,
        database_prefix="bench_",
        # The bench's customers each come from an address of their own (X-Forwarded-For): the
        # gateway limits registrations and logins per address.
        trusted_proxies=["127.0.0.1"],
        # The intake over all customers is out of the way while the capacity is measured; the
        # overload sets it to the capacity found.
        order_intake=UNLIMITED_ORDER_INTAKE,
        extra_env={"DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING"},
    )


def product_list(stack: Stack, results: dict[str, Any]) -> None:
    """The public product list as deployed (the gateway's versioned cache in front of catalog's
    Redis cache) against the same body served as a file by the same nginx, then with only the
    Redis cache, then with no cache at all."""
    url = f"{stack.gateway_url}{PRODUCT_LIST}"
    cached_against_ceiling(stack, url, results)
    stack.restart_gateway(catalog_cache=False)
    try:
        results["product_list_redis_cached"] = _warm_then_wrk(stack, url)
        # supervisord restarts catalog's gunicorn with the cache turned off, and again as configured.
        stack.restart_with_environment("catalog-web", {"CATALOG_CACHE_ENABLED": "false"})
        results["product_list_uncached"] = _warm_then_wrk(stack, url)
    finally:
        stack.restart_with_environment("catalog-web", {})
        stack.restart_gateway()


def cached_against_ceiling(stack: Stack, url: str, results: dict[str, Any]) -> None:
    """The cached list, and the ceiling of this machine for that response: the gateway's nginx
    serving the same body as a plain file. The two alternate CEILING_ROUNDS times; each figure
    is the median round, the ratio the median of the rounds' ratios."""
    site = stack.runtime / "static-ceiling"
    site.mkdir(exist_ok=True)
    site.chmod(0o755)
    body = httpx.get(url).content
    (site / CEILING_FILE).write_bytes(body)
    (site / CEILING_FILE).chmod(0o644)
    port = free_port()
    stack.restart_gateway(static_site=(f"127.0.0.1:{port}", site))
    ceiling_url = f"http://127.0.0.1:{port}/{CEILING_FILE}"
    assert httpx.get(ceiling_url).content == body
    _wait_for_cache_hit(url)
    runs: dict[str, list[dict[str, float]]] = {"product_list_cached": [], "product_list_static_ceiling": []}
    for _ in range(CEILING_ROUNDS):
        runs["product_list_cached"].append(_warm_then_wrk(stack, url))
        runs["product_list_static_ceiling"].append(_warm_then_wrk(stack, ceiling_url))
    for name, measured in runs.items():
        results[name] = _median_round(measured, "requests_per_s")
    results["cached_list_vs_static_ceiling_rps_by_round"] = [
        _ratio(cached["requests_per_s"], ceiling["requests_per_s"])
        for cached, ceiling in zip(
            runs["product_list_cached"], runs["product_list_static_ceiling"], strict=True
        )
    ]


def _wait_for_cache_hit(url: str, timeout: float = 15) -> None:
    """Until the gateway answers from its cache: a restarted one first polls the version."""
    deadline = time.monotonic() + timeout
    while httpx.get(url).headers["X-Gateway-Cache"] != "HIT":
        if time.monotonic() > deadline:
            raise TimeoutError(f"the gateway does not answer {url} from its cache")
        time.sleep(0.1)


def express_peer(stack: Stack, results: dict[str, Any]) -> None:
    """The same product list JSON, served by an Express service behind an Express gateway, and
    the CPU its two processes spend per request: the unit the pipeline's CPU is told in too,
    which another machine's speed changes as much as ours."""
    peer = BENCH_DIR / "peer"
    if not (peer / "node_modules" / "express").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=peer, check=True)
    body = stack.state / "peer-product-list.json"
    body.write_bytes(httpx.get(f"{stack.gateway_url}{PRODUCT_LIST}").content)
    service_port, gateway_port = free_port(), free_port()
    service = subprocess.Popen(["node", "service.js", str(service_port), str(body)], cwd=peer)
    gateway = subprocess.Popen(["node", "gateway.js", str(gateway_port), str(service_port)], cwd=peer)
    try:
        url = f"http://127.0.0.1:{gateway_port}{PRODUCT_LIST}"
        _wait_for(url)
        assert httpx.get(url).content == body.read_bytes()
        wrk(url, seconds=1, connections=1, threads=1)
        processes = {"express-gateway": gateway.pid, "express-service": service.pid}
        rounds = []
        for _ in range(PEER_ROUNDS):
            before = cpu_seconds_of(processes)
            report: dict[str, Any] = wrk(url)
            report["cpu_us_per_request"] = cpu_per_unit(
                before, cpu_seconds_of(processes), report["requests"], scale=1_000_000
            )
            rounds.append(report)
        results["peer_express_product_list"] = _median_round(rounds, "requests_per_s")
        results["peer_express_requests_per_s_by_round"] = [run["requests_per_s"] for run in rounds]
    finally:
        for process in (gateway, service):
            process.terminate()
            process.wait(10)


def gateway_overhead(stack: Stack, results: dict[str, Any], token: str) -> None:
    """/api/auth/me/ through nginx (with its auth subrequest) and straight to gunicorn.

    The two alternate five times; the ratio is the median of the five rounds' ratios, so a
    burst of other work on the machine during one round cannot decide it.
    """
    headers = {"Authorization": f"Bearer {token}"}
    urls = {
        "me_direct": f"http://127.0.0.1:{stack.config.service_port('auth')}/api/auth/me/",
        "me_through_gateway": f"{stack.gateway_url}/api/auth/me/",
    }
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in urls}
    for _ in range(GATEWAY_ROUNDS):
        for name, url in urls.items():
            # Few connections: this compares latency, not who saturates the two cores first.
            runs[name].append(wrk(url, seconds=5, connections=4, headers=headers))
    for name, measured in runs.items():
        results[name] = _median_round(measured, "p50_ms")
    for figure in ("p50_ms", "mean_ms"):
        results[f"me_gateway_vs_direct_{figure}_by_round"] = [
            _ratio(gateway[figure], direct[figure])
            for direct, gateway in zip(runs["me_direct"], runs["me_through_gateway"], strict=True)
        ]


def auth_cache(stack: Stack, results: dict[str, Any], token: str) -> None:
    """The auth subrequest with nginx caching /internal/verify answers (as deployed), against
    without, and how soon a token revoked meanwhile is refused."""
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{stack.gateway_url}/api/notify/notifications/?page_size=1"
    results["auth_subrequest_cached"] = _wrk_with_cpu(stack, url, headers=headers)
    results["revoked_token_refused_after_s"] = _revocation_delay(stack)
    stack.restart_gateway(auth_cache_seconds=0)
    try:
        results["auth_subrequest_uncached"] = _wrk_with_cpu(stack, url, headers=headers)
    finally:
        stack.restart_gateway()


def _revocation_delay(stack: Stack) -> float:
    """Seconds from a logout until the gateway answers 401 to its token, with its check cached."""
    with httpx.Client(base_url=stack.gateway_url) as client:
        token = client.post(
            "/api/auth/token/", json={"email": DEMO_STAFF_EMAIL, "password": stack.demo_staff_password}
        ).json()["access"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/auth/me/", headers=headers).status_code == 200
        client.post("/api/auth/logout/", headers=headers).raise_for_status()
        revoked_at = time.monotonic()
        while client.get("/api/auth/me/", headers=headers).status_code != 401:
            if time.monotonic() - revoked_at > REVOCATION_TIMEOUT_S:
                raise TimeoutError(f"a revoked token still works after {REVOCATION_TIMEOUT_S} s")
            time.sleep(0.01)
        return round(time.monotonic() - revoked_at, 3)


def _warm_then_wrk(stack: Stack, url: str) -> dict[str, Any]:
    """wrk's figures for ``url`` after a second of the same load: the caches then hold wrk's
    own variant of the page (the answer varies on Accept, which wrk does not send), and the
    first requests do not wait on the gateway's cache lock. What each of the stack's processes
    spent per request too."""
    wrk(url, seconds=1, connections=1, threads=1)
    return _wrk_with_cpu(stack, url)


def _wrk_with_cpu(stack: Stack, url: str, **options: Any) -> dict[str, Any]:
    """wrk's figures, and the CPU microseconds each part of the stack spent per request (wrk's
    own CPU is not the stack's): docs/capacity.md sizes the deployment from these."""
    before = cpu_seconds_by_part(stack)
    report: dict[str, Any] = wrk(url, **options)
    report["cpu_us_per_request"] = cpu_per_unit(
        before, cpu_seconds_by_part(stack), report["requests"], scale=1_000_000
    )
    return report


def _wait_for(url: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(url)


def _median_round(rounds: list[dict[str, Any]], figure: str) -> dict[str, Any]:
    """The round whose ``figure`` is the median of an odd number of rounds, with all its figures."""
    return sorted(rounds, key=lambda run: run[figure])[len(rounds) // 2]


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator else float("nan")


def pipeline_cpu_per_order_peer_units(results: dict[str, Any]) -> float:
    """The stack's CPU per order (the load generator's left out) over the Express peer's CPU per
    request of the same run: how many of the peer's requests one order costs."""
    per_order_ms = stack_cpu(results["order_pipeline"]["cpu_ms_per_order"])
    return _ratio(per_order_ms, _peer_cpu_ms_per_request(results))


def pipeline_floor_peer_units(results: dict[str, Any]) -> float:
    """The machinery's floor under an order's CPU (bench.pipeline.machinery_floor) in the same
    units: no change to the work an order does can take its cost below this."""
    return _ratio(results["pipeline_floor"]["floor_ms_per_order"], _peer_cpu_ms_per_request(results))


def _peer_cpu_ms_per_request(results: dict[str, Any]) -> float:
    return _cpu_us_per_request(results["peer_express_product_list"]) / 1000


def _cpu_us_per_request(scenario: dict[str, Any]) -> float:
    return sum(scenario["cpu_us_per_request"].values())


def summary(results: dict[str, Any]) -> dict[str, Any]:
    return {
        "pipeline_cpu_per_order_peer_units": pipeline_cpu_per_order_peer_units(results),
        "pipeline_floor_peer_units": pipeline_floor_peer_units(results),
        "pipeline_capacity_orders_per_s": results["pipeline_capacity"]["orders_per_s"],
        "cached_list_vs_express_rps": _ratio(
            results["product_list_cached"]["requests_per_s"],
            results["peer_express_product_list"]["requests_per_s"],
        ),
        "cached_list_vs_static_ceiling_rps": statistics.median(
            results["cached_list_vs_static_ceiling_rps_by_round"]
        ),
        # The same comparison in CPU per request: on two cores wrk's own share caps both req/s
        # figures, the cached list's first, and the peer's speed varies from day to day far more
        # than the stack's. How many cached reads cost what one request of the peer costs.
        "cached_list_vs_express_cpu_per_request": _ratio(
            _cpu_us_per_request(results["peer_express_product_list"]),
            _cpu_us_per_request(results["product_list_cached"]),
        ),
        "redis_cached_list_vs_express_rps": _ratio(
            results["product_list_redis_cached"]["requests_per_s"],
            results["peer_express_product_list"]["requests_per_s"],
        ),
        "redis_cached_vs_uncached_list_rps": _ratio(
            results["product_list_redis_cached"]["requests_per_s"],
            results["product_list_uncached"]["requests_per_s"],
        ),
        "gateway_vs_direct_me_p50": statistics.median(results["me_gateway_vs_direct_p50_ms_by_round"]),
        "gateway_vs_direct_me_mean": statistics.median(results["me_gateway_vs_direct_mean_ms_by_round"]),
        "auth_cache_on_vs_off_rps": _ratio(
            results["auth_subrequest_cached"]["requests_per_s"],
            results["auth_subrequest_uncached"]["requests_per_s"],
        ),
    }


def print_table(results: dict[str, Any]) -> None:
    rows = [
        ("product list, gateway cache + Redis cache", "product_list_cached"),
        ("same body as a file from the gateway's nginx", "product_list_static_ceiling"),
        ("product list, Redis cache only", "product_list_redis_cached"),
        ("product list, cache off", "product_list_uncached"),
        ("peer: Express gateway + Express service", "peer_express_product_list"),
        ("GET /api/auth/me/ straight to gunicorn", "me_direct"),
        ("GET /api/auth/me/ through the gateway", "me_through_gateway"),
        ("protected call, auth subrequest cached 5 s", "auth_subrequest_cached"),
        ("protected call, auth subrequest uncached", "auth_subrequest_uncached"),
    ]
    print(f"\n{'scenario':<46}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'CPU µs':>10}")
    for label, key in rows:
        row = results[key]
        cpu = f"{_cpu_us_per_request(row):.0f}" if "cpu_us_per_request" in row else "-"
        print(
            f"{label:<46}{row['requests_per_s']:>10.0f}{row['p50_ms']:>10.2f}{row['p99_ms']:>10.2f}{cpu:>10}"
        )
    print(f"\na token revoked by logout is refused after {results['revoked_token_refused_after_s']} s")
    pipeline = results["order_pipeline"]
    print(
        f"\norder pipeline: {pipeline['orders']} orders sent at {pipeline['rate_per_s']}/s,"
        f" answered at {pipeline['answered_per_s']}/s"
    )
    for name in ("post_ms", "post_to_confirmed_ms", "post_to_email_sent_ms"):
        figures = pipeline[name]
        print(
            f"  {name:<24} p50 {figures['p50']:>8.1f}  p95 {figures['p95']:>8.1f}  p99 {figures['p99']:>8.1f}"
        )
    print(
        f"  lost {pipeline['lost']}, duplicated {pipeline['duplicated']}, oversold {pipeline['oversold']}"
        f", emails received {pipeline['emails_received']}"
    )
    cpu = pipeline["cpu_ms_per_order"]
    print(
        f"  CPU per order {sum(cpu.values()):.1f} ms: "
        + ", ".join(f"{part} {ms}" for part, ms in cpu.items())
    )
    floor = results["pipeline_floor"]
    print(
        f"  floor {floor['floor_ms_per_order']} ms: a POST answered from the idempotency store"
        f" {stack_cpu(floor['post_cpu_ms']):.1f} ms + {floor['events_per_order']} x an event sent"
        f" again and found handled {stack_cpu(floor['event_cpu_ms']):.1f} ms"
    )
    steps = results["pipeline_capacity"]["steps"]
    print(
        f"\ncapacity: {results['pipeline_capacity']['orders_per_s']} orders/s ("
        + ", ".join(
            f"{step['rate_per_s']}/s p99 {step['post_to_confirmed_ms']['p99']:.0f} ms"
            f" {'ok' if step['sustained'] else 'not sustained'}"
            for step in steps
        )
        + ")"
    )
    shed = results["overload"]
    print(
        f"overload: {shed['rate_per_s']}/s for {shed['seconds']} s through an intake of"
        f" {shed['gateway_intake_per_s']}/s: {shed['accepted']} accepted (p99 to confirmed"
        f" {shed['accepted_post_to_confirmed_ms']['p99']:.0f} ms), {shed['refused_503']} refused"
        f" (p99 {shed['refusal_ms']['p99']:.1f} ms, {shed['refused_with_retry_after']} with Retry-After),"
        f" lost {shed['lost']}, duplicated {shed['duplicated']}, oversold {shed['oversold']},"
        f" back to normal after {shed['recovered_after_s']} s"
    )
    print("\nratios")
    for name, value in results["ratios"].items():
        print(f"  {name:<36}{value:>8}")


def main() -> int:
    config = bench_config()
    shutil.rmtree(config.state_dir, ignore_errors=True)
    stack = Stack(config)
    print("Starting the stack (production settings) for the benchmark...", flush=True)
    stack.start()
    results: dict[str, Any] = {
        "machine": {"cores": os.cpu_count()},
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    try:
        token = httpx.post(
            f"{stack.gateway_url}/api/auth/token/",
            json={"email": DEMO_STAFF_EMAIL, "password": stack.demo_staff_password},
        ).json()["access"]
        product_list(stack, results)
        express_peer(stack, results)
        gateway_overhead(stack, results, token)
        auth_cache(stack, results, token)
        load = OrderLoad(stack, token)
        results["order_pipeline"] = steady_load(load)
        results["pipeline_floor"] = machinery_floor(load)
        results["pipeline_capacity"] = capacity(load)
        results["overload"] = overload(load, results["pipeline_capacity"]["orders_per_s"])
        results["ratios"] = summary(results)
    finally:
        stack.stop()
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"\nwritten to {BENCH_DIR / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
