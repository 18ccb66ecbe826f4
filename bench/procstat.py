"""What the kernel says about a process tree: CPU time, resident memory, and whether uvloop is loaded.

CPU time is what a benchmark on a shared, noisy machine can trust: utime + stime from ``/proc/PID/stat`` count
every thread of the process (the SQLite writer thread included), however long the process waited for a core.
"""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (worker processes forked by ``--workers``)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(_children(current))
    return found


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return children
    for task in tasks:
        try:
            children.extend(int(c) for c in (task / "children").read_text().split())
        except FileNotFoundError:
            continue
    return children


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes (all threads), in seconds; a process that is gone counts 0."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5), counted after the name
    return total / CLOCK_TICKS


def thread_sched_ns(pid: int, tid: int | None = None) -> tuple[int, int]:
    """(time run on a CPU, time waited runnable for one) of one thread (default: the process's main thread,
    an event loop's), in nanoseconds, from ``/proc/PID/task/TID/schedstat`` (finer than the clock ticks of
    ``stat``); (0, 0) when it is gone."""
    try:
        ran, waited = Path(f"/proc/{pid}/task/{tid or pid}/schedstat").read_text().split()[:2]
        return int(ran), int(waited)
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return 0, 0


def rss_kib(pids: list[int]) -> int:
    """Sum of VmRSS over the processes, in KiB (pages shared by forked workers count once per worker)."""
    return sum(_status_field(pid, "VmRSS") for pid in pids)


def pss_kib(pids: list[int]) -> int:
    """Sum of Pss over the processes, in KiB: shared pages divided among their sharers."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except (FileNotFoundError, PermissionError):
            continue
    return total


def _status_field(pid: int, name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def uses_uvloop(pid: int) -> bool:
    """Whether uvloop's extension module is mapped into the process (i.e. it was imported)."""
    try:
        return "uvloop" in Path(f"/proc/{pid}/maps").read_text()
    except FileNotFoundError:
        return False


def listening_sockets(port: int) -> int:
    """How many TCP sockets listen on ``port`` (one per worker process with SO_REUSEPORT)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def machine() -> dict[str, object]:
    """Cores, CPU model, memory and the open-file limit, for the report."""
    import platform
    import resource

    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = _meminfo("MemTotal")
    return {
        "cores": len(os.sched_getaffinity(0)),
        "cpu": model,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "open_files_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    }


def _meminfo(name: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0
