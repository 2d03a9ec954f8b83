"""What an ETL notebook knows about the run executing it.

``painel etl run`` passes the run's identity to the notebook's kernel through environment
variables (papermill starts the kernel as a child process). A notebook run by hand in
JupyterLab, or by nbval, gets an ``interactive-...`` run id instead.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

RUN_ID_ENV = "PAINEL_RUN_ID"
JOB_ENV = "PAINEL_JOB"
NOTEBOOK_ENV = "PAINEL_NOTEBOOK"
PARAMETERS_ENV = "PAINEL_PARAMETERS"


def new_run_id(prefix: str = "") -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{prefix}{stamp}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class RunContext:
    run_id: str
    job: str | None = None
    notebook: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def interactive(self) -> bool:
        return self.run_id.startswith("interactive-")

    @classmethod
    def from_env(cls) -> RunContext:
        run_id = os.environ.get(RUN_ID_ENV)
        if not run_id:
            return cls(run_id=new_run_id("interactive-"))
        try:
            params = json.loads(os.environ.get(PARAMETERS_ENV, "{}"))
        except ValueError:
            params = {}
        return cls(
            run_id=run_id,
            job=os.environ.get(JOB_ENV),
            notebook=os.environ.get(NOTEBOOK_ENV),
            parameters=params,
        )

    def env(self) -> dict[str, str]:
        return {
            RUN_ID_ENV: self.run_id,
            JOB_ENV: self.job or "",
            NOTEBOOK_ENV: self.notebook or "",
            PARAMETERS_ENV: json.dumps(self.parameters, default=str),
        }
