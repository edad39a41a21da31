"""HTTP load with wrk, reported by bench/report.lua as one JSON line."""

import json
import shutil
import subprocess
from pathlib import Path

REPORT_SCRIPT = Path(__file__).resolve().parent / "report.lua"


def wrk(
    url: str,
    *,
    seconds: int = 10,
    connections: int = 32,
    threads: int = 2,
    headers: dict[str, str] | None = None,
) -> dict[str, float]:
    argv = [
        shutil.which("wrk") or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(REPORT_SCRIPT),
    ]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    result = subprocess.run([*argv, url], capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if report["errors"] or report["non_2xx"]:
        raise RuntimeError(f"wrk saw errors on {url}: {report}\n{result.stdout}")
    return report
