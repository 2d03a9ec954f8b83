"""The demo slice: school enrolment of a small synthetic state network.

It exercises the whole foundation the way the domain suites will: a ``;``-delimited
latin-1 CSV extract (like the secretariat's daily dumps) -> ETL notebook
``notebooks/etl/demo_enrolment.ipynb`` -> dataset ``demo`` (tables scoped by regional
office and school) -> dashboard ``notebooks/dashboards/matriculas.ipynb``.

This module is the domain's declaration, found through the ``painel.domains`` entry point.
"""

from __future__ import annotations

from ..domain import PUBLIC, DemoUser, Domain, Scope

DATASET = "demo"
SCOPE = {"regional": "regional_id", "school": "school_id"}
TABLES: dict[str, Scope] = {
    "regionals": PUBLIC,
    "schools": SCOPE,
    "enrolment_monthly": SCOPE,
    "enrolment_by_stage": SCOPE,  # summary the dashboard reads
}

# Demo accounts only: the data is synthetic and the server listens on loopback by default.
DOMAIN = Domain(
    name="demo",
    title="Matrículas (demonstração)",
    datasets={DATASET: TABLES},
    roles={"staff": "Servidor(a) de escola, regional ou órgão central"},
    demo="painel.demo.seed:prepare",
    demo_users=(
        DemoUser(
            "sre.metro", "demo-sre-metro", "staff", ("demo:regional:1",), "SRE Metropolitana A"
        ),
        DemoUser("sre.jf", "demo-sre-jf", "staff", ("demo:regional:2",), "SRE Juiz de Fora"),
        DemoUser(
            "escola.31003001",
            "demo-escola",
            "staff",
            ("demo:school:31003001",),
            "E.E. de Uberlândia",
        ),
    ),
    notebook_fixture="painel.demo.seed:notebook_fixture",
    docs="README.md",
)
