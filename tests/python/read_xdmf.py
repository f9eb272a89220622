# Reads an XDMF time series with meshio (an independent reader) and prints it as JSON: the
# points, the cells by type, and per step its time, node data and cell data. argv[1] is the file.
import json, math, sys
import meshio

def canon(v):
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    if isinstance(v, list):
        return [canon(x) for x in v]
    return v

with meshio.xdmf.TimeSeriesReader(sys.argv[1]) as reader:
    points, cells = reader.read_points_cells()
    out = {"points": canon(points.tolist()),
           "cells": {block.type: block.data.tolist() for block in cells}, "steps": []}
    for k in range(reader.num_steps):
        t, point_data, cell_data = reader.read_data(k)
        out["steps"].append({
            "time": t,
            "point_data": {n: canon(d.tolist()) for n, d in point_data.items()},
            "cell_data": {n: [canon(b.tolist()) for b in d] for n, d in cell_data.items()},
        })
print(json.dumps(out, sort_keys=True))
