"""``painel lab``: JupyterLab on the project, for analysts writing panels and jobs.

- the kernel is painel's own environment (the interpreter ``painel`` runs in);
- a dashboard notebook run there renders its panel inline as a chosen identity
  (``--as USER``, or ``dash.view_as("USER")`` in a cell), so an analyst sees exactly what
  that user would: the same role, grants and row filters as under ``painel serve``, where
  identity only ever comes from the login (``painel serve`` drops these variables);
- an ETL notebook run there writes to a scratch store under ``<PAINEL_HOME>/lab/store``,
  never the published one: dashboards keep reading the published data.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence

from .access import AuthError, load_viewer
from .config import HOME_ENV, PROJECT_ENV, ConfigError, Paths
from .opstate import OpState
from .wire import LAB_ENV, SCRATCH_STORE_ENV, TEST_USER_ENV


def scratch_store(paths: Paths) -> str:
    return str(paths.home / "lab" / "store")


def lab_environment(
    paths: Paths, user: str, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment JupyterLab (and so its kernels) runs with, viewing as ``user``."""
    try:
        load_viewer(OpState(paths.opstate), user)
    except AuthError as exc:
        raise ConfigError(f"--as {user}: {exc}") from None
    env = dict(os.environ if base is None else base)
    env.update(
        {
            HOME_ENV: str(paths.home),
            PROJECT_ENV: str(paths.project),
            TEST_USER_ENV: user,
            SCRATCH_STORE_ENV: scratch_store(paths),
            LAB_ENV: "1",
        }
    )
    for key in [k for k in env if k.startswith("VOILA_")]:
        del env[key]
    return env


def lab_command(
    paths: Paths, port: int, open_browser: bool, extra: Sequence[str] = ()
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--ServerApp.root_dir={paths.project}",
        f"--ServerApp.port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.open_browser={'True' if open_browser else 'False'}",
        # containers and CI run as root; JupyterLab refuses that unless told
        *(["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []),
        *extra,
    ]


def run(paths: Paths, user: str, port: int, open_browser: bool, dry_run: bool = False) -> int:
    if shutil.which("jupyter", path=os.path.dirname(sys.executable)) is None:
        raise ConfigError("JupyterLab is not installed in this environment (make install)")
    env = lab_environment(paths, user)
    argv = lab_command(paths, port, open_browser)
    print(
        f"painel lab: JupyterLab on {paths.project}; dashboards render as {user}; "
        f"ETL notebooks write to {scratch_store(paths)} (the published store is untouched)",
        file=sys.stderr,
        flush=True,
    )
    if dry_run:
        print(" ".join(argv))
        return 0
    os.makedirs(scratch_store(paths), exist_ok=True)
    os.execve(argv[0], argv, env)
    return 0  # not reached
