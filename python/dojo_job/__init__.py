"""dojo_job: what a training program tells dojorun, in three lines.

    import dojo_job
    ...
    for step in range(start, steps):
        ...
        dojo_job.step(step, samples=batch, loss=loss)   # every step
        if dojo_job.stop_requested():                   # SIGTERM, SIGINT, SIGUSR1
            save_checkpoint(dojo_job.checkpoint_dir())
            dojo_job.exit_stopped()                     # exit 3: a clean stop

Under dojorun (DOJO_HEARTBEAT_ADDR set) a thread of this module sends one
heartbeat a second to the launcher: the last step, running totals of step
time, time inside collectives and samples, the last loss and the collective
the rank is in now. The launcher turns them into hang detection that names
the stuck rank and collective, step time, throughput, loss and straggler
metrics, and summary.json. Outside dojorun every call does nothing and none
fails. Standard library only; Python 3.9 or newer.

The wire format (one UDP datagram, one line) is documented in docs/LAUNCH.md
so that any language can speak it; include/dojo_job.h offers the same calls
to C and C++.
"""

import atexit
import math
import os
import signal
import socket
import sys
import threading
import time

__all__ = [
    "active", "step", "collective", "begin_collective", "end_collective",
    "ddp_comm_hook", "stop_requested", "stop_agreed", "stop_signal", "exit_stopped", "done",
    "run_dir", "attempt", "checkpoint_dir", "batch_share", "rank",
    "world_size", "local_rank", "EXIT_STOPPED",
]

#: The exit code dojorun treats as a clean stop after a checkpoint.
EXIT_STOPPED = 3

_STOP_SIGNALS = ("SIGTERM", "SIGINT", "SIGUSR1")


def _int_env(name, default):
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return default


def _token(text, fallback):
    """A field of the line: no whitespace, at most 64 characters."""
    text = str(text)[:64]
    return "".join("_" if c.isspace() else c for c in text) or fallback


class _Client:
    """One rank's state and the thread that reports it."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        host = host.strip("[]")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._peer = socket.getaddrinfo(host, int(port), family, socket.SOCK_DGRAM)[0][4]
        self._socket = socket.socket(family, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self._prefix = "dojo-heartbeat 2 %s %d %d %s " % (
            _token(os.environ.get("DOJO_JOB", "job"), "job"),
            _int_env("DOJO_ATTEMPT", 0),
            _int_env("RANK", 0),
            _token(socket.gethostname(), "host"),
        )
        self.interval_s = float(os.environ.get("DOJO_HEARTBEAT_INTERVAL_S", "1.0"))
        self.step = -1
        self.sequence = 0
        self.step_seconds = 0.0
        self.comm_seconds = 0.0
        self.samples = 0
        self.loss = None  # anything float() takes; converted when sent
        self.last_step_at = None
        self.collective = None
        self.depth = 0
        self.comm_start = 0.0
        self.checkpoint_seconds = 0.0
        self.finished = False
        self.lock = threading.Lock()  # collective marks come from several threads
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._pulse, name="dojo_job-heartbeat", daemon=True)

    def line(self):
        loss = self.loss
        try:
            loss = float(loss) if loss is not None else math.nan
        except (TypeError, ValueError):
            loss = math.nan
        line = "%s%d %d %.6f %.6f %d %.9g %s %s" % (
            self._prefix, self.step, self.sequence, self.step_seconds, self.comm_seconds,
            self.samples, loss, self.collective or "-", "done" if self.finished else "run")
        if self.checkpoint_seconds > 0:
            line += " %.6f" % self.checkpoint_seconds  # for goodput accounting
        return line

    def send(self):
        try:
            self._socket.sendto(self.line().encode(), self._peer)
        except OSError:
            pass  # a lost heartbeat is only a missed sign of life

    def _pulse(self):
        while True:
            self.send()
            if self.wake.wait(self.interval_s) or self.finished:
                return


def _start():
    address = os.environ.get("DOJO_HEARTBEAT_ADDR")
    if not address:
        return None
    try:
        client = _Client(address)
    except (OSError, ValueError, IndexError) as error:
        print("dojo_job: no heartbeats to %s (%s); the job runs without them" % (address, error),
              file=sys.stderr)
        return None
    client.thread.start()
    atexit.register(done)
    return client


_client = None  # set at the end of this module when under dojorun
_stop = {"requested": False, "signal": 0}
_monotonic = time.monotonic
_collective_tokens = {}  # name: its field on the line


def active():
    """Whether this process runs under dojorun and reports to it."""
    return _client is not None


def step(step, samples=None, loss=None):
    """Records that `step` finished: `samples` this rank processed in it and
    the `loss` (a float, or a tensor: it is converted at most once a second,
    in the heartbeat thread). The time since the previous call is the step's
    time. Cheap enough for every step: no system call."""
    c = _client
    if c is None:
        return
    now = _monotonic()
    if c.last_step_at is not None:
        c.step_seconds += now - c.last_step_at
    c.last_step_at = now
    c.step = step
    if samples:
        c.samples += samples
    if loss is not None:
        c.loss = loss


def begin_collective(name="all_reduce"):
    """Marks the start of a collective (nested marks count once)."""
    c = _client
    if c is None:
        return
    token = _collective_tokens.get(name)
    if token is None:
        token = _collective_tokens[name] = _token(name, "collective")
    with c.lock:
        if c.depth == 0:
            c.comm_start = _monotonic()
        c.depth += 1
        c.sequence += 1
        c.collective = token


def end_collective():
    """Marks the end of the innermost open collective."""
    c = _client
    if c is None:
        return
    with c.lock:
        if c.depth == 0:
            return
        c.depth -= 1
        if c.depth == 0:
            c.comm_seconds += _monotonic() - c.comm_start
            c.collective = None


class checkpoint:
    """`with dojo_job.checkpoint(): torch.save(...)` marks a checkpoint save,
    so the launcher counts its time as checkpoint badput, not training, in the
    job's goodput (docs/RELIABILITY.md)."""

    __slots__ = ("start",)

    def __init__(self):
        self.start = 0.0

    def __enter__(self):
        self.start = _monotonic()
        return self

    def __exit__(self, *exc):
        c = _client
        if c is not None:
            c.checkpoint_seconds += _monotonic() - self.start
        return False


class collective:
    """`with dojo_job.collective("all_reduce"): ...` marks a collective, so a
    hang report names it and the time in it is not counted as compute."""

    __slots__ = ("name",)

    def __init__(self, name="all_reduce"):
        self.name = name

    def __enter__(self):
        begin_collective(self.name)
        return self

    def __exit__(self, *exc):
        end_collective()
        return False


def ddp_comm_hook(state, bucket):
    """A PyTorch DDP communication hook: DDP's own all-reduce, marked.

        model.register_comm_hook(None, dojo_job.ddp_comm_hook)
    """
    from torch.distributed.algorithms.ddp_comm_hooks import default_hooks

    begin_collective("all_reduce")
    try:
        future = default_hooks.allreduce_hook(state, bucket)
    except BaseException:
        end_collective()
        raise

    def finished(f):
        end_collective()
        return f.value()[0] if isinstance(f.value(), list) else f.value()

    return future.then(finished)


def stop_agreed(group=None):
    """For PyTorch: whether any rank was asked to stop, agreed by all ranks
    (an all-reduce of one number over `group`), so that all stop at the same
    step and none waits in a collective for a rank that left. Collective:
    every rank calls it at the same step (every step, or every N)."""
    import torch
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_initialized():
        return stop_requested()
    backend = dist.get_backend(group)
    device = "cuda" if backend == "nccl" else "cpu"
    flag = torch.tensor([1.0 if stop_requested() else 0.0], device=device)
    with collective("all_reduce"):
        dist.all_reduce(flag, op=dist.ReduceOp.MAX, group=group)
        return bool(flag.item() > 0)


def _on_stop_signal(previous):
    def handler(signum, frame):
        _stop["requested"] = True
        _stop["signal"] = signum
        # The program's own handler still runs; Python's default ones (raise
        # KeyboardInterrupt, terminate) would defeat a clean stop.
        if callable(previous) and previous is not signal.default_int_handler:
            previous(signum, frame)
    return handler


def _install_stop_handlers():
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread
    for name in _STOP_SIGNALS:
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        previous = signal.getsignal(sig)
        if previous is signal.SIG_IGN:
            continue  # the program chose to ignore it
        signal.signal(sig, _on_stop_signal(previous))


def stop_requested():
    """Whether dojorun (or a scheduler) asked the job to stop: save a
    checkpoint, then call exit_stopped()."""
    return _stop["requested"]


def stop_signal():
    """The signal that asked for the stop (0 before one did)."""
    return _stop["signal"]


def done():
    """Tells the launcher this rank has finished (called at exit)."""
    c = _client
    if c is None or c.finished:
        return
    c.finished = True
    c.wake.set()
    c.send()


def exit_stopped():
    """Exits with code 3, which dojorun reads as a clean stop after a
    checkpoint: the job stops without a restart and continues from it when
    launched again."""
    done()
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(EXIT_STOPPED)


def run_dir():
    """The job's run directory (DOJO_RUN_DIR), or "." outside dojorun."""
    return os.environ.get("DOJO_RUN_DIR", ".")


def attempt():
    """This attempt's number (0 for the first; restarts count up)."""
    return _int_env("DOJO_ATTEMPT", 0)


def checkpoint_dir():
    """Where the job keeps checkpoints (DOJO_CHECKPOINT_DIR: the run
    directory's checkpoint.dir), or "checkpoints" outside dojorun."""
    return os.environ.get("DOJO_CHECKPOINT_DIR", "checkpoints")


def batch_share():
    """This rank's samples per global batch (DOJO_BATCH_SHARE: larger on
    faster nodes), or None when the launcher gave none."""
    share = _int_env("DOJO_BATCH_SHARE", 0)
    return share if share > 0 else None


def rank():
    return _int_env("RANK", 0)


def world_size():
    return _int_env("WORLD_SIZE", 1)


def local_rank():
    return _int_env("LOCAL_RANK", 0)


def _forget_in_child():
    """A forked child (a DataLoader worker) is not the rank: it reports
    nothing, and its exit must not tell the launcher the rank is done."""
    global _client
    _client = None


_client = _start()
if _client is not None:
    _install_stop_handlers()
    os.register_at_fork(after_in_child=_forget_in_child)
