#!/usr/bin/env python3
"""Finger-like stroke sets for handwriting tests, from Make Me a Hanzi medians.

Usage: make_strokes.py HANZI_WRITER_DATA_DIR > strokes.json

HANZI_WRITER_DATA_DIR is the unpacked npm package `hanzi-writer-data` (2.0.1):
one JSON file per character whose `medians` are the centre lines of its strokes
in a 1024-unit box, y pointing up (baseline at 900). For each character this
script draws it the way a finger on a 300x300 pad would: the box is mapped to
the pad with a small random shift, scale and slant (people do not write
centred), each stroke is resampled at an even finger pace (about one point per
6 px, as a touch panel reports at 60 Hz), every point is jittered (sigma 3 px),
and each stroke begins and ends a little off the median (over/under-shoot).
The seed is fixed, so the output is reproducible.
"""
import json
import math
import random
import sys
from pathlib import Path

# Characters common in Chinese given names and surnames (the most frequent
# surnames, then frequent given-name characters), plus two rarer ones.
CHARS = "张王李刘陈杨赵黄周吴明华红英兰芳桂秀玉国建军丽强伟梅珍海平生小文德"
PAD = 300
STEP = 6.0
JITTER = 3.0


def resample(points, step):
    out = [points[0]]
    carry = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        seg = math.hypot(x1 - x0, y1 - y0)
        if seg == 0:
            continue
        d = step - carry
        while d <= seg:
            t = d / seg
            out.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
            d += step
        carry = seg - (d - step)
    if out[-1] != points[-1]:
        out.append(points[-1])
    return out


def draw(medians, rng):
    scale = PAD / 1024 * rng.uniform(0.85, 1.0)
    dx = rng.uniform(-12, 12)
    dy = rng.uniform(-12, 12)
    slant = math.radians(rng.uniform(-5, 5))
    cx = cy = 512

    def place(x, y):
        y = 900 - y  # y down, as on a screen
        x, y = x - cx, y - cy
        x, y = x * math.cos(slant) - y * math.sin(slant), x * math.sin(slant) + y * math.cos(slant)
        return (PAD / 2 + x * scale + dx, PAD / 2 + y * scale + dy)

    strokes = []
    for median in medians:
        pts = [place(x, y) for x, y in median]
        pts = resample(pts, STEP)
        # Over- or under-shoot at both ends: a finger lifts early or late.
        if len(pts) >= 2:
            for i, j in ((0, 1), (-1, -2)):
                (ax, ay), (bx, by) = pts[i], pts[j]
                k = rng.uniform(-0.5, 0.5)
                pts[i] = (ax + (ax - bx) * k, ay + (ay - by) * k)
        stroke = []
        for x, y in pts:
            x += rng.gauss(0, JITTER)
            y += rng.gauss(0, JITTER)
            stroke.append([min(PAD, max(0, round(x))), min(PAD, max(0, round(y)))])
        strokes.append(stroke)
    return strokes


def main():
    src = Path(sys.argv[1])
    rng = random.Random(14)
    out = {}
    for ch in CHARS:
        data = json.loads((src / f"{ch}.json").read_text(encoding="utf-8"))
        out[ch] = draw(data["medians"], rng)
    json.dump({"pad": PAD, "characters": out}, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
