"""Stopping a process and everything it started.

Claude Code runs each Bash tool command in a session of its own, so neither its process group nor
its session holds its tools: the tree has to be found by parent links. The tree is frozen first
(SIGSTOP, top down, until no new process appears) so nothing forks while it is being killed, then
killed. `maskgate._agent_exec` makes Claude Code a child subreaper, so a tool that daemonizes is
re-parented to Claude Code rather than to init and stays in the tree.
"""

from __future__ import annotations

import os
import signal
from contextlib import suppress
from pathlib import Path

PROC = Path("/proc")


def _stat(pid: int) -> tuple[str, int] | None:
    """State and parent pid from /proc/PID/stat (the command name may hold spaces and parentheses)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return (fields[0], int(fields[1])) if len(fields) > 1 else None


def parent_of(pid: int) -> int | None:
    found = _stat(pid)
    return found[1] if found else None


def children_by_parent() -> dict[int, list[int]]:
    """Live processes by parent; zombies are left out (already dead, only waiting to be reaped)."""
    out: dict[int, list[int]] = {}
    try:
        entries = [int(e.name) for e in os.scandir(PROC) if e.name.isdigit()]
    except OSError:
        return out
    for pid in entries:
        found = _stat(pid)
        if found is not None and found[0] not in ("Z", "X"):
            out.setdefault(found[1], []).append(pid)
    return out


def descendants(pid: int) -> list[int]:
    """Every live process below `pid`, parents before children."""
    tree = children_by_parent()
    found: list[int] = []
    todo = list(tree.get(pid, []))
    while todo:
        p = todo.pop(0)
        if p not in found:
            found.append(p)
            todo.extend(tree.get(p, []))
    return found


def _signal(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def kill_tree(pid: int, include_root: bool = True) -> int:
    """SIGKILLs everything below `pid` (and `pid` itself unless `include_root` is false, in which
    case it is only paused while its descendants are killed). Returns how many processes were killed."""
    if not _signal(pid, signal.SIGSTOP):
        return 0
    stopped: list[int] = []
    while True:
        new = [p for p in descendants(pid) if p not in stopped]
        if not new:
            break
        stopped.extend(p for p in new if _signal(p, signal.SIGSTOP))
        if not any(p in stopped for p in new):
            break
    killed = sum(_signal(p, signal.SIGKILL) for p in stopped)
    if include_root:
        killed += _signal(pid, signal.SIGKILL)
    else:
        with suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGCONT)
    return killed
