"""Property-based fuzzing of every service's OpenAPI schema through the gateway (schemathesis).

For each service and each kind of caller (a customer, staff), schemathesis reads the schema the
service serves, generates requests from it (its examples, boundary and malformed values for
every parameter and body, then random ones) and sends them through the gateway. It fails on any
5xx, any answer whose status, content type, headers or body the schema does not document, and
any request that the schema says is invalid but the API accepted.

The run is bounded (a few examples per operation), seeded and keeps no example database, so
the same code makes the same requests in CI as on a laptop. Staff requests change things (users,
products, categories, orders, all of ids the fuzzer picks): these tests run after every other of
the session (conftest.py orders them) and stand on objects of their own where it matters.
"""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from devstack.stack import DEMO_STAFF_EMAIL, Stack
from edge.service_table import SERVICE_NAMES
from tests.support import DEMO_STAFF_PASSWORD, MailSink, register

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
]
# Per operation and phase; with the boundary values of the coverage phase, which finds most.
MAX_EXAMPLES = 5
SEED = 20261129
# A refusing business rule (an unknown product, a duplicate SKU) is a 4xx for valid data, so
# "positive data acceptance" is not a check here; "stateful" would chain writes beyond the bound.
PHASES = "examples,coverage,fuzzing"
ROLES = ["customer", "staff"]


@pytest.mark.runs_last
@pytest.mark.parametrize("service", SERVICE_NAMES)
@pytest.mark.parametrize("role", ROLES)
def test_every_answer_is_what_the_schema_says(
    stack: Stack, mail: MailSink, role: str, service: str, tmp_path: Path
) -> None:
    email, password = _credentials(stack, mail, role)
    config = tmp_path / "schemathesis.toml"
    # The token comes from the token endpoint, and again whenever an answer is 401: fuzzing
    # POST /api/auth/logout/ revokes the token in hand, and the run goes on with a new one.
    config.write_text(
        "[auth.dynamic.openapi.bearerAuth]\n"
        'path = "/api/auth/token/"\n'
        f'payload = {{ email = "{email}", password = "{password}" }}\n'
        'extract_selector = "/access"\n'
        "retry_on = [401]\n"
    )
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{stack.gateway_url}/api/{service}/schema/",
        "--url",
        stack.gateway_url,
        "--checks",
        ",".join(CHECKS),
        "--phases",
        PHASES,
        "--mode",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--request-timeout",
        "15",
        # The end-to-end stack trusts 127.0.0.1 as a proxy: each run's requests come from an
        # address of their own, so the wrong passwords it sends make that address wait
        # (accounts.throttling), not 127.0.0.1, from which schemathesis fetches its tokens.
        "--header",
        f"X-Forwarded-For: {_fuzzing_address(role, service)}",
    ]

    if role == "staff":
        # An operation that takes no token answers staff as it answers anyone: the customer's
        # run has fuzzed it (and these are the costly ones: each login hashes a password).
        for operation_id in _operations_without_a_token(stack, service):
            command += ["--exclude-operation-id", operation_id]

    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)

    assert run.returncode == 0, run.stdout[-30000:] + run.stderr[-5000:]


def _operations_without_a_token(stack: Stack, service: str) -> list[str]:
    schema = httpx.get(
        f"{stack.gateway_url}/api/{service}/schema/", headers={"Accept": "application/json"}
    ).json()
    return [
        operation["operationId"]
        for path in schema["paths"].values()
        for operation in path.values()
        if not any("bearerAuth" in requirement for requirement in operation.get("security", []))
    ]


def _fuzzing_address(role: str, service: str) -> str:
    """An address of TEST-NET-2 (RFC 5737) for each run."""
    return f"198.51.100.{ROLES.index(role) * len(SERVICE_NAMES) + SERVICE_NAMES.index(service) + 1}"


def _credentials(stack: Stack, mail: MailSink, role: str) -> tuple[str, str]:
    if role == "staff":
        return DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as client:
        customer = register(client, mail)
    return customer.email, customer.password
