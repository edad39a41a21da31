"""CPU time the stack's processes spend, by part (catalog-worker, postgres...), read from
/proc: what one scenario costs the machine, measured in the same run as its latencies."""

import os
from pathlib import Path

from devstack.stack import Stack

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The bench's own process, which sends the orders: read beside the stack's parts, never counted
# in what the stack spends.
LOAD_GENERATOR = "load-generator"


def cpu_seconds_by_part(stack: Stack) -> dict[str, float]:
    """Seconds of CPU used so far by each of the stack's programs (cpu_seconds_of)."""
    return cpu_seconds_of(stack.supervisor.pids())


def cpu_seconds_of(processes: dict[str, int]) -> dict[str, float]:
    """Seconds of CPU used so far by each named process (name: pid) and all its descendants, the
    ones that exited included (a Postgres backend ends with its connection, a gunicorn worker is
    replaced): each living process adds the time of the children it reaped."""
    roots = {pid: name for name, pid in processes.items()}
    parents: dict[int, int] = {}
    seconds: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields start after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        utime, stime, children_utime, children_stime = map(int, fields[11:15])
        seconds[pid] = (utime + stime + children_utime + children_stime) / CLOCK_TICKS
    by_part: dict[str, float] = {}
    for pid, used in seconds.items():
        ancestor = pid
        while ancestor not in roots and ancestor > 1:
            ancestor = parents.get(ancestor, 1)
        if ancestor in roots:
            by_part[roots[ancestor]] = by_part.get(roots[ancestor], 0.0) + used
    return by_part


def cpu_per_unit(
    before: dict[str, float], after: dict[str, float], units: int, *, scale: float = 1000
) -> dict[str, float]:
    """CPU per unit of work (an order, a request) between two readings, busiest part first, in
    milliseconds (``scale=1000``) or microseconds (``scale=1_000_000``)."""
    spent = {part: (after[part] - before.get(part, 0.0)) * scale / units for part in after}
    busiest_first = sorted(spent.items(), key=lambda item: item[1], reverse=True)
    return {part: round(amount, 1) for part, amount in busiest_first if amount >= 0.1}


def stack_cpu(by_part: dict[str, float]) -> float:
    """What the stack spent of a ``cpu_per_unit`` reading: every part but the load generator."""
    return sum(amount for part, amount in by_part.items() if part != LOAD_GENERATOR)
