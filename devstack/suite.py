"""``make test``: each service's own tests against real Postgres and Redis, then the
end-to-end tests, which start the live stack themselves. Ends with one total line.
"""

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from devstack.stack import ROOT, Stack, StackConfig
from edge.service_table import SERVICES

UNIT_SUITES = {"edge": ROOT / "edge", **{service.name: ROOT / service.directory for service in SERVICES}}


def _pytest(cwd: Path, env: dict[str, str] | None, report: Path, args: list[str]) -> int:
    argv = [sys.executable, "-m", "pytest", f"--junitxml={report}", *args]
    print(f"\n=== {cwd.relative_to(ROOT)}: {' '.join(argv[1:])}", flush=True)
    return subprocess.run(argv, cwd=cwd, env=env, check=False).returncode


def _counts(report: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from a JUnit XML report; a missing report counts as a failure."""
    if not report.exists():
        return 0, 1, 0
    suite = ElementTree.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    tests, skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
    failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    return tests - failed - skipped, failed, skipped


def _end_to_end_args(pytest_args: list[str]) -> list[str]:
    """pytest's arguments for the end-to-end suite: the whole tests/ folder, unless they name
    tests of their own (``-- tests/test_roles.py``)."""
    if any(argument.startswith("tests") for argument in pytest_args):
        return pytest_args
    return ["tests", *pytest_args]


def run_suite(pytest_args: list[str], *, only: list[str] | None = None) -> int:
    """Every suite, or those named in ``only`` (a service, ``edge`` or ``end-to-end``)."""
    state = ROOT / ".stack" / "test"
    shutil.rmtree(state, ignore_errors=True)
    reports = state / "reports"
    reports.mkdir(parents=True)
    infrastructure = Stack(StackConfig.from_environment(state_dir=state / "unit", database_prefix="unit_"))
    codes: dict[str, int] = {}
    try:
        infrastructure.start_infrastructure()
        for name, cwd in UNIT_SUITES.items():
            if only and name not in only:
                continue
            env = infrastructure.environment_for(name)
            # Each suite names its settings in its own pytest configuration.
            env.pop("DJANGO_SETTINGS_MODULE")
            codes[name] = _pytest(cwd, env, reports / f"{name}.xml", pytest_args)
    finally:
        infrastructure.stop()
    if not only or "end-to-end" in only:
        codes["end-to-end"] = _pytest(ROOT, None, reports / "end-to-end.xml", _end_to_end_args(pytest_args))

    passed = failed = skipped = 0
    for name in codes:
        counts = _counts(reports / f"{name}.xml")
        passed, failed, skipped = passed + counts[0], failed + counts[1], skipped + counts[2]
    broken = [name for name, code in codes.items() if code != 0]
    if broken:
        print(f"\nFailing suites: {', '.join(broken)}", flush=True)
        failed = max(failed, len(broken))
    print(f"\ntotal: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return 1 if broken else 0
