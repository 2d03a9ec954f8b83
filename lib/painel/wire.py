"""The names the server and the dashboard kernels share, and nothing else.

Both sides import this module: ``painel serve`` sets these headers and variables, a kernel
reads them. It imports nothing, so neither side pays for the other's dependencies.
"""

from __future__ import annotations

from collections.abc import Mapping

USER_HEADER = "X-Painel-User"  # set by the server on every request, after deleting any client copy
USER_ENV = "HTTP_X_PAINEL_USER"  # how Voilà hands that header to the kernel
TEST_USER_ENV = "PAINEL_DASHBOARD_USER"  # nbval/papermill/JupyterLab only; never read under Voilà
DUCKDB_MEMORY_ENV = "PAINEL_DUCKDB_MEMORY_LIMIT"  # DuckDB in a dashboard kernel (painel.store)
DUCKDB_THREADS_ENV = "PAINEL_DUCKDB_THREADS"
KERNEL_TOKEN_ENV = "PAINEL_KERNEL_TOKEN"  # the request-info websocket's per-server token
RENDER_TIMEOUT_ENV = (
    "PAINEL_RENDER_TIMEOUT"  # seconds a page may take to build once its visitor came
)

LAB_ENV = "PAINEL_LAB"  # set by `painel lab`: a JupyterLab kernel, never a served dashboard
SCRATCH_STORE_ENV = "PAINEL_SCRATCH_STORE"  # `painel lab`: where ETL notebooks write instead

# What Voilà and painel put into a dashboard kernel's environment for one request: a process
# a kernel starts (a background ETL run) must not inherit any of it.
_KERNEL_ONLY_PREFIXES = ("VOILA_", "HTTP_", "SERVER_", "QUERY_STRING", "SCRIPT_NAME", "PATH_INFO")


def without_request_state(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` less the request and kernel variables a dashboard kernel holds."""
    return {
        k: v
        for k, v in environ.items()
        if not k.startswith(_KERNEL_ONLY_PREFIXES)
        and k
        not in (
            KERNEL_TOKEN_ENV,
            TEST_USER_ENV,
            LAB_ENV,
            SCRATCH_STORE_ENV,
            DUCKDB_MEMORY_ENV,  # a dashboard kernel's share, not a run's
            DUCKDB_THREADS_ENV,
        )
    }
