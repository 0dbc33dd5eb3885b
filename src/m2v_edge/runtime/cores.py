"""How many cores are really free for a helper thread: usable cores minus what other processes use now."""

from __future__ import annotations

import os
import time

# Busy time is sampled over this window; re-read at most this often (two small /proc reads, ~20 us).
_WINDOW_S = 0.5
_state: dict[str, float] = {"at": -1.0, "spare": 1.0, "busy": -1.0, "own": -1.0}


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS has one, else ``os.cpu_count()``)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _machine_busy_s() -> float | None:
    """Seconds of CPU all processes have used since boot (``/proc/stat``), ``None`` off Linux."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = handle.readline().split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def spare_cores() -> float:
    """Usable cores beyond the caller's own, minus the cores other processes kept busy lately (``>= 0``).

    Other processes' load is the machine's CPU time (``/proc/stat``) minus this process's own
    (``os.times``) over the last ~0.5 s, so our own threads never count against us. On an idle 2-core
    machine the answer is about 1; with another process spinning on one of the two cores it is about 0.
    Where ``/proc/stat`` is missing, the 1-minute load average stands in. ``M2V_EDGE_PREFETCH=1``/``0``
    forces 1 / 0 (benchmarks, or containers whose counters show the host).
    """
    forced = os.environ.get("M2V_EDGE_PREFETCH")
    if forced in ("0", "1"):
        return float(forced)
    now = time.monotonic()
    if now - _state["at"] < _WINDOW_S:
        return _state["spare"]
    busy = _machine_busy_s()
    times = os.times()
    own = times.user + times.system
    usable = usable_cores()
    if busy is None:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        others = max(0.0, load - 1.0)
    elif _state["busy"] < 0 or now - _state["at"] > 60:  # first call, or stale: assume free, measure from now
        others = 0.0
    else:
        others = max(0.0, (busy - _state["busy"]) - (own - _state["own"])) / (now - _state["at"])
    _state.update(at=now, busy=busy if busy is not None else -1.0, own=own)
    _state["spare"] = max(0.0, usable - 1 - others)
    return _state["spare"]
