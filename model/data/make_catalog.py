#!/usr/bin/env python3
"""Generates catalog.json, the starter catalog compiled into `model`.

The items live in `catalog_src/`, one file per group of departments, so a
reviewer reads one department's items at a time and a diff shows one item's
change on a few lines. Edit those files, not the JSON, and run this again:

    cd model/data && python3 make_catalog.py

Sources: items, materials, time limits and legal bases were written from
what is known of the county-level guides (办事指南) published on the Gansu
government service network (甘肃政务服务网, zwfw.gansu.gov.cn), without
access to the live site while writing. Every item's `source.checked` is
false: each must be compared with its live guide before production. The
implementation codes (实施编码) are placeholders in the right shape (an..24)
until the provincial platform's export is imported with `hub catalog import`.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from catalog_src import social, health, household, civil, farm  # noqa: E402
from catalog_src.themes import THEMES, BUNDLES  # noqa: E402

items = social.ITEMS + civil.ITEMS + health.ITEMS + household.ITEMS + farm.ITEMS

catalog = {
    "version": 2026120502,
    "source_note": ("依记忆整理自甘肃政务服务网公开的县级办事指南，编写时无法访问网站；实施编码为占位编码；"
                    "每个事项上线前须与现行办事指南逐项核对。Written from memory of the public county-level guides on "
                    "zwfw.gansu.gov.cn without access to the site; implementation codes are placeholders; check every "
                    "item against its live guide before production."),
    "translation_status": {"en": "draft", "bo": "draft", "kk": "draft"},
    "themes": THEMES,
    "items": items,
    "bundles": BUNDLES,
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalog.json")
with open(out, "w", encoding="utf-8") as f:
    json.dump(catalog, f, ensure_ascii=False, indent=1)
    f.write("\n")
print(f"{len(items)} items, {len(THEMES)} themes, {len(BUNDLES)} bundles -> {out}")
