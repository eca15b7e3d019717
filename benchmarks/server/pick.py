#!/usr/bin/env python3
"""Picks the tiles and the bbox of the server benchmark from the incidents of a OneGrid database.

    pick.py DB [--centre LON,LAT] [--tile-points N] [--bbox-matched N] [--bboxes N]

Prints shell assignments (eval them):
  busy_x, busy_y, busy_n       the z14 tile at the centre and the incidents in it
  dense_x, dense_y, dense_n    the z14 tile whose incident count is closest to --tile-points
  bbox, bbox_n                 a square bbox around the centre holding about --bbox-matched incidents
  bboxes, bboxes_n             --bboxes such squares (space-separated) around incidents drawn with a
                               fixed seed over the district, each holding at least --bbox-matched
Counts are computed here from the incidents table (lon, lat); the benchmark confirms them through
the server's own API.
"""
import argparse
import math
import random
import sqlite3
from collections import Counter

Z = 14


def tile_of(lon, lat, z=Z):
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    s = math.sin(math.radians(lat))
    y = int((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--centre", default="120.75,37.80")
    ap.add_argument("--tile-points", type=int, default=5000)
    ap.add_argument("--bbox-matched", type=int, default=300)
    ap.add_argument("--bboxes", type=int, default=8)
    a = ap.parse_args()
    clon, clat = (float(v) for v in a.centre.split(","))

    con = sqlite3.connect(f"file:{a.db}?mode=ro", uri=True)
    pts = con.execute("SELECT lon, lat FROM incidents").fetchall()
    tiles = Counter(tile_of(lon, lat) for lon, lat in pts)

    bx, by = tile_of(clon, clat)
    # Closest count to the wanted one; among equals, the tile nearest the centre.
    dense = min(tiles.items(), key=lambda kv: (abs(kv[1] - a.tile_points), abs(kv[0][0] - bx) + abs(kv[0][1] - by)))

    near = [(lon, lat) for lon, lat in pts if abs(lon - clon) < 0.05 and abs(lat - clat) < 0.05]
    lo, hi = 0.0, 0.05
    for _ in range(40):  # bisect the half-size of the square
        d = (lo + hi) / 2
        n = sum(1 for lon, lat in near if abs(lon - clon) <= d and abs(lat - clat) <= d)
        if n < a.bbox_matched:
            lo = d
        else:
            hi = d
    d = round(hi, 5)
    box = (round(clon - d, 5), round(clat - d, 5), round(clon + d, 5), round(clat + d, 5))
    n_box = sum(1 for lon, lat in pts if box[0] <= lon <= box[2] and box[1] <= lat <= box[3])

    # Squares around a few incidents spread over the district (a fixed seed: the same squares in
    # every run on the same data): the half-size is the --bbox-matched-th smallest Chebyshev
    # distance from the centre, so each square holds at least that many incidents.
    rng = random.Random(20261129)
    boxes, counts = [], []
    for _ in range(a.bboxes):
        lon0, lat0 = rng.choice(pts)
        lon0, lat0 = round(lon0, 4), round(lat0, 4)
        ds = sorted(max(abs(lon - lon0), abs(lat - lat0)) for lon, lat in pts
                    if abs(lon - lon0) < 0.02 and abs(lat - lat0) < 0.02)
        if len(ds) < a.bbox_matched:
            continue
        d = math.ceil(ds[a.bbox_matched - 1] * 1e5 + 1) / 1e5
        b = (round(lon0 - d, 5), round(lat0 - d, 5), round(lon0 + d, 5), round(lat0 + d, 5))
        boxes.append(",".join(f"{v:.5f}" for v in b))
        counts.append(sum(1 for lon, lat in pts if b[0] <= lon <= b[2] and b[1] <= lat <= b[3]))

    print(f"incidents_total={len(pts)}")
    print(f"busy_x={bx} busy_y={by} busy_n={tiles.get((bx, by), 0)}")
    print(f"dense_x={dense[0][0]} dense_y={dense[0][1]} dense_n={dense[1]}")
    print(f"bbox={box[0]},{box[1]},{box[2]},{box[3]} bbox_n={n_box}")
    print(f"bboxes='{' '.join(boxes)}' bboxes_n='{' '.join(map(str, counts))}'")


if __name__ == "__main__":
    main()
