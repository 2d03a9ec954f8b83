"""The school demo's logins point at SREs and a school that the demo's dump really has."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path

from painel.school import DOMAIN, demo
from painel.school.generate import generate


def test_demo_users_match_the_demo_dump(tmp_path: Path) -> None:
    (zip_path,) = generate(tmp_path, scale=demo.SCALE, day=date(2026, 11, 30), seed=demo.SEED)
    with zipfile.ZipFile(zip_path) as zf:
        text = zf.read("escola.csv").decode("cp1252")
    schools = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    sres = {r["CO_SRE"] for r in schools}
    ids = {r["CO_ENTIDADE"] for r in schools}
    kinds = set()
    for user in DOMAIN.demo_users:
        for grant in user.grants:
            parts = grant.split(":")
            if parts[1] == "sre":
                assert parts[2] in sres, (
                    f"{user.username}: SRE {parts[2]} has no school in the demo"
                )
            elif parts[1] == "school":
                assert parts[2] in ids, f"{user.username}: school {parts[2]} not in the demo"
            kinds.add(parts[1])
    assert kinds == {"*", "sre", "school"}  # central, SRE and school logins


def test_demo_day_is_inside_a_school_year() -> None:
    since, day = demo.demo_day(date(2026, 11, 30))
    assert day == date(2026, 11, 30) and since < day
    since, day = demo.demo_day(date(2027, 1, 10))  # January: the year before's last days
    assert day.year == 2026 and day.month == 12
