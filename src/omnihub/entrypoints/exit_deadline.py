"""A process asked to stop is gone within a bound, whatever its threads are doing.

A graceful stop waits for work in hand: a push on the wire, a transaction queued behind
another process's write lock, a scheduled job inside a long read. Python then waits at
exit for the scheduler's pool threads (concurrent.futures joins them, unbounded), so one
stuck call would keep the process alive past any supervisor's grace period, and the
supervisor's SIGKILL would come anyway. Past the deadline the process exits at once
instead: nothing is lost by it, because every write is a transaction (an unfinished one
rolls back when its connection dies) and every claim is a lease that runs out; the next
process redoes what was cut short from the cursors and the outbox.

A stop that ended in time exits at once too (`exit_now`), never through the interpreter's
own finalization: a thread the bounded stop left running (a push on a slow link, a row
inside SQLite) is frozen there mid-call, possibly holding a connection's mutex that the
finalization's clean-up of that connection then waits for, forever; the deadline's own
thread is frozen with it. tests/sync/test_worker_stop_under_load.py's busy stop hung past
10 s about one run in twenty on a loaded machine; a stop there often leaves the inbox's
thread mid-row (its share of the budget, 2 s, runs out on the slow link).

The deadline's thread is Python, so it needs the interpreter's lock to run: a thread
stuck in a C call that holds that lock would stop it too. Behind it stands faulthandler's
watchdog, a C thread that needs no lock: BACKSTOP_S later it writes every thread's stack
to stderr (where the process was stuck, for whoever reads the log) and exits with code 1.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time

import structlog

log = structlog.get_logger(__name__)

BACKSTOP_S = 1.0  # past the deadline, the watchdog that needs no interpreter lock ends the process


class ExitDeadline:
    def __init__(self, within_s: float, *, exit_code: int = 0) -> None:
        self.within_s = within_s
        self.exit_code = exit_code
        self._armed_at: float | None = None
        self._lock = threading.RLock()  # arm() runs in a signal's handler, which may interrupt arm() itself

    def arm(self) -> "ExitDeadline":
        """Start counting (once: arming again changes nothing); a daemon thread ends the
        process when the time is up."""
        with self._lock:
            if self._armed_at is not None:
                return self
            self._armed_at = time.monotonic()
        try:
            faulthandler.dump_traceback_later(self.within_s + BACKSTOP_S, exit=True)
        except (ValueError, OSError, AttributeError):  # no usable stderr (a closed or fd-less stream): the thread alone
            pass
        threading.Thread(target=self._watch, name="exit-deadline", daemon=True).start()
        return self

    def _watch(self) -> None:
        time.sleep(self.within_s)
        busy = sorted(th.name for th in threading.enumerate() if th is not threading.current_thread() and th.is_alive())
        log.warning("stop deadline reached: exiting now; unfinished transactions roll back and leases run out",
                    within_s=self.within_s, threads_still_running=busy)
        exit_now(self.exit_code)


def exit_now(code: int = 0) -> None:
    """End the process here, after flushing what it printed and logged (the log handler
    writes to stderr), without the interpreter's finalization (see the module's docstring)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed stream cannot be flushed; the exit matters more
            pass
    os._exit(code)
