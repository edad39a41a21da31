"""The service table (``edge/edge/service_table.py``) is said once: no other Python, nginx or
shell file of the repository lists the services' ports or names again.

compose.yml and the Kubernetes manifests (deploy/k8s/) say them in their own language; their
own tests check that they agree with the table. Needs no live stack.
"""

import ast
import re
import subprocess
from pathlib import Path

import pytest

from edge.service_table import GATEWAY_INTERNAL_PORT, GATEWAY_PORT, SERVICE_NAMES, SERVICES

REPO = Path(__file__).resolve().parent.parent
TABLE = Path("edge/edge/service_table.py")
EXEMPT_FOLDERS = ("deploy/k8s/",)
SHELLS = ("#!/bin/sh", "#!/bin/bash", "#!/usr/bin/env bash", "#!/usr/bin/env sh")
PORT = re.compile(
    r"(?<!\d)("
    + "|".join(
        str(port) for port in sorted({GATEWAY_PORT, GATEWAY_INTERNAL_PORT, *(s.port for s in SERVICES)})
    )
    + r")(?!\d)"
)
NAMES = [re.compile(rf"\b{re.escape(name)}\b") for name in SERVICE_NAMES]


def _is_scanned(path: Path) -> bool:
    if path == TABLE or str(path).startswith(EXEMPT_FOLDERS):
        return False
    if path.suffix in {".py", ".sh"} or path.name == "Makefile":
        return True
    if path.parts[0] == "nginx":
        return True
    if not path.suffix and (REPO / path).is_file():
        with (REPO / path).open("rb") as file:
            return file.readline().decode(errors="replace").strip().startswith(SHELLS)
    return False


def scanned_files() -> list[Path]:
    """The repository's files (committed or not, less what git ignores) in the languages checked."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [Path(name) for name in listed if (REPO / name).is_file() and _is_scanned(Path(name))]


def second_listings(path: Path, text: str) -> list[str]:
    """Where ``text`` (the file at ``path``) says a port of the table, names every service on
    one line, or (Python) holds every service's name in one list, tuple, set or dict."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for port in PORT.findall(line):
            found.append(f"{path}:{number}: port {port}")
        if all(name.search(line) for name in NAMES):
            found.append(f"{path}:{number}: every service named on one line")
    if path.suffix == ".py":
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if isinstance(node, ast.List | ast.Tuple | ast.Set):
                items = node.elts
            elif isinstance(node, ast.Dict):
                items = [key for key in node.keys if key is not None]
            else:
                continue
            strings = {item.value for item in items if isinstance(item, ast.Constant)}
            if set(SERVICE_NAMES) <= strings:
                found.append(f"{path}:{node.lineno}: every service in one {type(node).__name__.lower()}")
    return found


def test_no_file_lists_the_services_ports_or_names_again():
    files = scanned_files()
    assert any(path.parts[0] == "nginx" for path in files)
    assert Path("bin/bootstrap") in files

    found = [
        listing
        for path in files
        for listing in second_listings(path, (REPO / path).read_text(errors="replace"))
    ]

    assert found == [], "read edge.service_table instead:\n" + "\n".join(found)


_first = SERVICES[0]
_quoted = ", ".join(f'"{name}"' for name in SERVICE_NAMES)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("bench/ports.py", f'PORTS = {{"{_first.name}": {_first.port}}}\n'),
        ("tests/sites.py", "SITES = [\n" + "".join(f'    "{name}",\n' for name in SERVICE_NAMES) + "]\n"),
        ("tests/workers.py", "WORKERS = {" + ", ".join(f'"{name}": 2' for name in SERVICE_NAMES) + "}\n"),
        ("nginx/extra.conf", f"location ~ ^/admin/({'|'.join(SERVICE_NAMES)})/ {{ }}\n"),
        ("bin/each", f"for service in {' '.join(SERVICE_NAMES)}; do :; done\n"),
        ("devstack/gateway.py", f'GATEWAY = "http://127.0.0.1:{GATEWAY_PORT}"\n'),
        ("tests/pairs.py", f"NAMES = ({_quoted})\n"),
    ],
)
def test_a_second_listing_planted_in_a_file_is_found(path, text):
    assert second_listings(Path(path), text)


def test_a_subset_of_the_services_or_another_port_is_not_a_listing():
    pairs = f'PAIRS = [("{SERVICE_NAMES[0]}", "{SERVICE_NAMES[1]}")]\nPORT = {GATEWAY_PORT + 12000}\n'

    assert second_listings(Path("tests/pairs.py"), pairs) == []
