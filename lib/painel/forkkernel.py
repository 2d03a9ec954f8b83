"""Forked kernels: ipykernel processes forked from a warm parent instead of started afresh.

A new Python kernel spends most of its first second importing (ipykernel, zmq, IPython,
pandas, duckdb, ...). A **zygote** is one process that has imported those once and then only
forks: each kernel is a fork of it, so it starts with the libraries already loaded, and their
pages stay shared copy-on-write between every kernel (what PSS counts).

The standard way in: a jupyter_client **kernel provisioner** (:class:`ForkProvisioner`,
entry point ``painel-fork`` of ``jupyter_client.kernel_provisioners``). It asks the zygote
named by ``PAINEL_KERNEL_ZYGOTE`` (a Unix socket) to fork a kernel for the command the kernel
manager built; without a zygote, or for a command that is not ipykernel's, it starts the
kernel as the local provisioner does. A kernel manager uses it when its kernel spec names
it, or when ``JUPYTER_DEFAULT_PROVISIONER_NAME=painel-fork`` (jupyter_client's own switch).

What the zygote guarantees:

- **Clean imports only.** It imports third-party libraries that read no per-kernel state at
  import time (:data:`PRELOAD`), never painel's modules (some read the environment when
  imported), and refuses to start if importing them left a thread running (forking a
  process with threads is unsafe).
- **A fork is a fresh kernel.** The child starts its own session (``setsid``: the kernel
  manager signals its process group), takes the environment, working directory and
  standard streams the kernel manager asked for (file descriptors passed over the socket),
  re-seeds ``random`` and runs ipykernel's ``launch_new_instance`` with the manager's
  arguments.
- **Streams and lifetime as a Popen child's.** A kernel writes to the standard streams of
  the process that asked for it (passed over the socket), never to a pipe nobody reads, and
  ends once that process is gone (a watcher thread in the kernel). The zygote reaps its
  children and exits when the process that started it is gone.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .launch import pid_alive

ZYGOTE_ENV = "PAINEL_KERNEL_ZYGOTE"
PROVISIONER = "painel-fork"
PROVISIONER_ENV = "JUPYTER_DEFAULT_PROVISIONER_NAME"
PRELOAD = (
    "numpy",
    "pandas",
    "duckdb",
    "pyarrow",
    "xlsxwriter",
    "zmq",
    "tornado.ioloop",
    "jupyter_client.session",
    "IPython",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.comm",
    "ipykernel.zmqshell",
    "IPython.core.interactiveshell",
    "debugpy",  # ipykernel's debugger, imported when a kernel starts
    "psutil",
    "sqlite3",
    "pdb",
    "pydoc",
    "xmlrpc.client",
    "ipywidgets",
    "plotly.graph_objects",
    "plotly.io",
    "nbformat",
)
log = logging.getLogger("painel.forkkernel")
_MAX_MESSAGE = 4 << 20  # a request: argv, cwd and the environment


class ZygoteError(RuntimeError):
    pass


# ---- the zygote process ----------------------------------------------------------------------
def _preload(modules: list[str]) -> list[str]:
    """Import each module (one that does not exist is skipped); ``module:function`` entries
    are then called, in order: warm-up work every kernel would otherwise do itself."""
    loaded = []
    for name in modules:
        try:
            importlib.import_module(name.partition(":")[0])
            loaded.append(name)
        except ImportError:
            continue
    tasks = _native_threads()
    for name in loaded:
        module, _, function = name.partition(":")
        if function:
            getattr(sys.modules[module], function)()
            if _native_threads() > tasks:
                raise ZygoteError(f"{name} left threads running: forking is unsafe")
    return loaded


def _native_threads() -> int:
    """The process's threads as the system counts them (libraries' own threads included)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _reap(signum: int, frame: Any) -> None:
    with contextlib.suppress(ChildProcessError):
        while True:
            pid, _status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break


def serve(path: str, modules: list[str], ready_fd: int) -> None:
    """The zygote's loop: preload, then fork a kernel per request on the socket ``path``;
    "ready" goes to ``ready_fd`` (a pipe, closed then: a kernel must never inherit a pipe
    nobody reads, or it blocks once the pipe is full)."""
    parent = os.getppid()
    os.environ["SPT_NOENV"] = "1"  # a kernel's title goes over argv only: environ stays as is
    loaded = _preload(["setproctitle", *modules])
    if threading.active_count() != 1:
        names = ", ".join(t.name for t in threading.enumerate())
        raise ZygoteError(f"importing {loaded} started threads ({names}): forking is unsafe")
    with contextlib.suppress(ImportError):
        import setproctitle

        setproctitle.getproctitle()  # its set-up (reads SPT_NOENV) happens here, once
    # What is imported stays as it is: the collector never walks (and so never writes to)
    # these objects in a kernel, so their pages stay shared with every other kernel.
    gc.collect()
    gc.freeze()
    signal.signal(signal.SIGCHLD, _reap)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)  # only this user's processes may ask for kernels
    listener.listen(64)
    listener.settimeout(1.0)
    os.write(ready_fd, f"ready {os.getpid()} {len(loaded)}\n".encode())
    os.close(ready_fd)
    while os.getppid() == parent:  # the process that started it is gone: so are we
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        except InterruptedError:
            continue
        with conn:
            try:
                _answer(conn, listener)
            except (OSError, ValueError) as exc:
                with contextlib.suppress(OSError):
                    conn.sendall(json.dumps({"error": str(exc)}).encode() + b"\n")
    listener.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _answer(conn: socket.socket, listener: socket.socket) -> None:
    conn.settimeout(10.0)
    data, fds, _flags, _addr = socket.recv_fds(conn, _MAX_MESSAGE, 3)
    while not data.endswith(b"\n"):
        more = conn.recv(_MAX_MESSAGE)
        if not more:
            raise ValueError("the request ended early")
        data += more
    request = json.loads(data)
    pid = os.fork()
    if pid == 0:  # the kernel
        try:
            listener.close()
            conn.close()
            _become_kernel(request, fds)
        finally:
            os._exit(1)
    for fd in fds:
        os.close(fd)
    conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def _become_kernel(request: dict[str, Any], fds: list[int]) -> None:
    os.setsid()
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    streams = dict(zip(request.get("fds", []), fds, strict=False))
    null = os.open(os.devnull, os.O_RDWR)
    for target, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        os.dup2(streams.get(name, null if name == "stdin" else target), target)
    os.environ.clear()
    os.environ.update(request["env"])
    if request.get("cwd"):
        os.chdir(request["cwd"])
    random.seed()
    watched = int(request.get("watch") or 0)
    if watched:  # as a Popen child watches its parent: the process that asked for it
        threading.Thread(target=_watch, args=(watched,), name="painel-watch", daemon=True).start()
    sys.argv = ["ipykernel_launcher", *request["args"]]
    with contextlib.suppress(ImportError):  # in ps, as a kernel started afresh would be
        import setproctitle

        setproctitle.setproctitle(" ".join([sys.executable, "-m", *sys.argv]))
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()  # as launch_new_instance does, with a step between
    app.initialize()
    # its parent is the zygote, not the manager named by parent_handle: ipykernel's poller
    # would end it with the zygote; the watcher above ends it with the manager instead
    app.poller = None
    _now_in_a_kernel()
    app.start()
    os._exit(0)


def _now_in_a_kernel() -> None:
    """What preloaded libraries decide when imported under IPython, decided again now that
    there is a kernel: the zygote imported them in a process without one."""
    widgets = sys.modules.get("ipywidgets")
    if widgets is not None:  # the "jupyter.widget" comm targets a page opens widgets on
        widgets.register_comm_target()
    pio = sys.modules.get("plotly.io")
    if pio is not None:  # plotly chose "browser" (or nothing) outside IPython
        pio.renderers.default = os.environ.get("PLOTLY_RENDERER") or "plotly_mimetype"


def _watch(pid: int) -> None:
    """End this kernel once ``pid`` (its kernel manager's process) is gone."""
    while pid_alive(pid):
        time.sleep(1.0)
    os._exit(1)


# ---- starting one ------------------------------------------------------------------------------
class Zygote:
    """A zygote process started by this one (it exits when this process does)."""

    def __init__(
        self,
        modules: tuple[str, ...] = PRELOAD,
        timeout_s: float = 60.0,
        env: dict[str, str] | None = None,
    ):
        """Start a zygote that preloads ``modules``, with ``env`` (default: ours) as its
        environment: what every kernel's memory starts from (a kernel gets its own variables,
        but ``/proc/<pid>/environ`` shows these), so give it no secret."""
        self.modules = modules
        self.environ = env
        self._dir = tempfile.mkdtemp(prefix="painel-zygote-")
        self.path = str(Path(self._dir) / "zygote.sock")
        self._start(timeout_s)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def restart(self, timeout_s: float = 60.0) -> None:
        """A new zygote on the same socket (the old one died): kernels ask for it as before."""
        self.stop(remove_dir=False)
        self._start(timeout_s)

    def _start(self, timeout_s: float) -> None:
        modules = self.modules
        read_fd, write_fd = os.pipe()
        try:
            # its stdout and stderr are ours: what a kernel writes there goes where a kernel
            # started as our child would write it
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "painel.forkkernel",
                    self.path,
                    ",".join(modules),
                    str(write_fd),
                ],
                stdin=subprocess.DEVNULL,
                pass_fds=(write_fd,),
                env=self.environ,
            )
        finally:
            os.close(write_fd)
        line = b""
        with os.fdopen(read_fd, "rb") as ready:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline and self.proc.poll() is None:
                import select

                if select.select([ready], [], [], 0.2)[0]:
                    line = ready.readline()
                    break
        if not line.startswith(b"ready"):
            self.stop()
            raise ZygoteError(f"the kernel zygote did not start (exit {self.proc.poll()})")
        self.pid = self.proc.pid

    def env(self) -> dict[str, str]:
        """What a process's kernel managers need to fork from this zygote."""
        return {ZYGOTE_ENV: self.path, PROVISIONER_ENV: PROVISIONER}

    def stop(self, remove_dir: bool = True) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        if remove_dir:
            with contextlib.suppress(OSError):
                os.rmdir(self._dir)

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def fork_kernel(
    path: str, args: list[str], env: dict[str, str], cwd: str | None, streams: dict[str, int]
) -> int:
    """Ask the zygote at ``path`` for a kernel running ipykernel with ``args``; its pid."""
    names = [n for n in ("stdin", "stdout", "stderr") if n in streams]
    message = json.dumps(
        {"args": args, "env": env, "cwd": cwd, "fds": names, "watch": os.getpid()},
        ensure_ascii=False,
    ).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(30.0)
        conn.connect(path)
        socket.send_fds(conn, [message + b"\n"], [streams[n] for n in names])
        reply = b""
        while not reply.endswith(b"\n"):
            more = conn.recv(65536)
            if not more:
                break
            reply += more
    answer = json.loads(reply or b"{}")
    if "pid" not in answer:
        raise ZygoteError(f"the kernel zygote refused: {answer.get('error', 'no answer')}")
    return int(answer["pid"])


class ForkedProcess:
    """The kernel as the kernel manager sees a ``Popen``: its pid, alive or not, signals.
    It is the zygote's child, not ours: it is alive while its pid is and is no zombie."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not pid_alive(self.pid):
            self.returncode = -signal.SIGKILL if _killed.get(self.pid) else 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if signum == signal.SIGKILL:
            _killed[self.pid] = True
        os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


_killed: dict[int, bool] = {}


def _provisioner_class() -> type:
    from jupyter_client.provisioning import LocalProvisioner

    class ForkProvisioner(LocalProvisioner):
        """LocalProvisioner whose kernels are forks of the zygote (see the module)."""

        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            path = os.environ.get(ZYGOTE_ENV, "")
            args = _ipykernel_args(cmd)
            if not path or args is None or not Path(path).exists():
                return await super().launch_kernel(cmd, **kwargs)
            env = dict(kwargs.get("env") or os.environ)
            # as jupyter_client's launcher does; ipykernel reads it when imported (the
            # zygote's would be stale), so it goes on the command line too
            env["JPY_PARENT_PID"] = str(os.getpid())
            # first: the command line ps shows ends with the connection file, as a started one
            args = [f"--IPKernelApp.parent_handle={os.getpid()}", *args]
            # a Popen child would inherit our stdout and stderr when none is given
            streams = {
                name: fd if (fd := _fileno(kwargs.get(name))) is not None else default
                for name, default in (("stdout", 1), ("stderr", 2))
            }
            cwd = kwargs.get("cwd")
            try:
                pid = fork_kernel(path, args, env, str(cwd) if cwd else None, streams)
            except (OSError, ValueError, ZygoteError) as exc:  # the zygote died: start afresh
                log.warning(
                    "kernel zygote at %s unusable (%s): starting the kernel afresh", path, exc
                )
                return await super().launch_kernel(cmd, **kwargs)
            self.process = ForkedProcess(pid)  # type: ignore[assignment]
            self.pid = self.pgid = pid
            self.cwd = cwd or os.getcwd()
            return self.connection_info

    return ForkProvisioner


def _fileno(stream: Any) -> int | None:
    if stream is None or isinstance(stream, int) and stream < 0:
        return None
    if isinstance(stream, int):
        return stream
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None


def _ipykernel_args(cmd: list[str]) -> list[str] | None:
    """The arguments after ``python -m ipykernel_launcher`` (or ``ipykernel``), if that is the
    command; None for any other kernel."""
    if (
        len(cmd) >= 3
        and cmd[1] == "-m"
        and cmd[2] in ("ipykernel_launcher", "ipykernel")
        and Path(cmd[0]).resolve() == Path(sys.executable).resolve()
    ):
        return list(cmd[3:])
    return None


def __getattr__(name: str) -> Any:  # the entry point names painel.forkkernel:ForkProvisioner
    if name == "ForkProvisioner":
        cls = _provisioner_class()
        globals()["ForkProvisioner"] = cls
        return cls
    raise AttributeError(name)


if __name__ == "__main__":
    serve(sys.argv[1], [m for m in sys.argv[2].split(",") if m], int(sys.argv[3]))
