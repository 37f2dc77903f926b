"""The lower-back sensor height ratios of ``pipeline.subjects`` from the ANSUR II public data.

ANSUR II (Gordon et al. 2014, *2012 Anthropometric Survey of U.S. Army Personnel: Methods and Summary
Statistics*, NATICK/TR-15/007) publishes one row per participant, lengths in millimetres, in
``ANSUR_II_MALE_Public.csv`` and ``ANSUR_II_FEMALE_Public.csv`` (not shipped with imugait). The iliac crest
(iliocristale) marks the level of L5, where the lower-back sensor of the step-length model sits.

    .venv/bin/python bench/anthropometry.py --ansur DIR
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

FILES = {"men": "ANSUR_II_MALE_Public.csv", "women": "ANSUR_II_FEMALE_Public.csv"}


def ratios(table: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Mean and SD of iliocristale height / stature and / trochanterion height."""
    crest = table["iliocristaleheight"].astype(float)
    out = {}
    for name, column in (("stature", "stature"), ("trochanterion height", "trochanterionheight")):
        r = crest / table[column].astype(float)
        out[name] = (float(r.mean()), float(r.std()))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ansur", type=Path, required=True, help="folder with the two ANSUR II public CSV files")
    args = parser.parse_args(argv)
    tables = {}
    for group, name in FILES.items():
        path = args.ansur / name
        if not path.is_file():
            parser.error(f"{path} not found: download the ANSUR II public data files into {args.ansur}")
        tables[group] = pd.read_csv(path, encoding="latin-1")
    tables["all"] = pd.concat(tables.values(), ignore_index=True)
    print("iliac-crest height as a fraction of ... (mean, SD)")
    for group, table in tables.items():
        cells = ", ".join(f"{name} {m:.3f} (SD {sd:.3f})" for name, (m, sd) in ratios(table).items())
        print(f"  {group:5s} n={len(table):5d}: {cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
