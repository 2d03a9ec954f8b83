"""The demo slice: school enrolment of a small synthetic state network.

It exercises the whole foundation the way the domain suites will: a ``;``-delimited
latin-1 CSV extract (like the secretariat's daily dumps) -> ETL notebook
``notebooks/etl/demo_enrolment.ipynb`` -> dataset ``demo`` (tables scoped by regional
office and school) -> dashboard ``notebooks/dashboards/matriculas.ipynb``.
"""
