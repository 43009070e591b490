"""Becomes Claude Code for the headless service: `python -I -S _agent_exec.py CLAUDE ARGS...`.

claude-agent-sdk spawns its CLI with this server's whole environment and in this server's process
group. This shim sits between the two (it is what the SDK's `cli_path` runs) and, before it execs
the real binary:

- keeps only the variables named in MASKGATE_AGENT_ENV: the server's own secrets (the master key,
  the upstream key, the store key) and anything that would point Claude Code elsewhere stay out;
- starts a new session, so the agent has no controlling terminal and gets no signal meant for
  the server's process group;
- marks itself a child subreaper (kept across exec), so processes its tools leave behind are
  re-parented to Claude Code and can still be found and killed (see `maskgate.proctree`);
- asks to be killed if the server goes away;
- writes its pid to MASKGATE_AGENT_PIDFILE, the pid the server kills the tree from.

Standard library only, and run with `-S`: it must start fast and import nothing from the server.
"""

import os
import sys

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
SIGKILL = 9


def _prctl() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the tree is then found by parent links only


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: _agent_exec.py CLAUDE [ARGS...]")
    claude = sys.argv[1]
    keep = [name for name in os.environ.get("MASKGATE_AGENT_ENV", "").split(",") if name]
    env = {name: os.environ[name] for name in keep if name in os.environ}
    pidfile = os.environ.get("MASKGATE_AGENT_PIDFILE")
    parent = os.getppid()
    os.setsid()
    _prctl()
    if os.getppid() != parent:
        sys.exit(1)  # the server died before the death signal was armed
    if pidfile:
        tmp = pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(os.getpid()))
        os.replace(tmp, pidfile)
    os.execve(claude, [claude, *sys.argv[2:]], env)


if __name__ == "__main__":
    main()
