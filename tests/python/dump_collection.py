# Prints a collection as canonical JSON, read through Python bamboost 0.14 (argv[1] is its
# path). test_python_interop.rs prints the same JSON through bamboost-rs and compares.
import json, sys, datetime, math
import numpy as np
from bamboost import Collection
from bamboost.core.simulation.series import Series

def canon(v):
    if isinstance(v, np.ndarray):
        return canon(v.tolist())
    if isinstance(v, (np.generic,)):
        return canon(v.item())
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    if isinstance(v, float):
        return "NaN" if math.isnan(v) else v
    if isinstance(v, datetime.datetime):
        return {"datetime": v.isoformat()}
    if isinstance(v, set):
        return {"set": sorted(canon(x) for x in v)}
    if isinstance(v, complex):
        return {"complex": [v.real, v.imag]}
    if isinstance(v, (list, tuple)):
        return [canon(x) for x in v]
    if isinstance(v, dict):
        return {str(k): canon(x) for k, x in v.items()}
    return repr(v)

c = Collection(sys.argv[1])
out = {"uid": str(c.uid), "simulations": {}}
for name in sorted(c.all_simulation_names()):
    sim = c[name]
    meta = dict(sim.metadata)
    created = meta.pop("created_at", None)
    meta.pop(".series_paths", None)
    meta["tags"] = sorted(sim.tags)
    meta["status"] = str(sim.metadata["status"])
    s = {"parameters": canon(dict(sim.parameters)), "metadata": canon(meta),
         "created_at_is_datetime": isinstance(created, datetime.datetime),
         "links": {k: str(v) for k, v in sim.links._dict.items()} if hasattr(sim.links, "_dict") else {},
         "series": {}, "meshes": {}}
    with sim.open("r") as f:
        paths = sorted(p for p in f.attrs.get(".series_paths", []))
        meshes = sorted(f[".mesh"].keys()) if ".mesh" in f else []
    for path in paths:
        series = Series(sim, path) if path != "data" else sim.data
        fields = {}
        for fname in sorted(series.get_field_names()):
            field = series.get_field(fname)
            with sim.open("r") as f:
                steps = sorted(int(k) for k in f[f"{path}/fields/{fname}"].keys())
                types = {str(st): f[f"{path}/fields/{fname}/{st}"].attrs["type"] for st in steps}
            fields[fname] = {"steps": {str(st): canon(field[st]) for st in steps}, "types": types}
        glob = {}
        with sim.open("r") as f:
            gnames = sorted(f[f"{path}/globals"].keys())
        for g in gnames:
            glob[g] = canon(series.globals[g][:])
        s["series"][path] = {"values": canon(np.asarray(series.values)), "fields": fields, "globals": glob}
    for m in meshes:
        mesh = sim.meshes[m]
        with sim.open("r") as f:
            cell_type = f[f".mesh/{m}/topology"].attrs["cell_type"]
        s["meshes"][m] = {"coordinates": canon(mesh.coordinates), "topology": canon(mesh.cells), "cell_type": canon(cell_type)}
    out["simulations"][name] = s
print(json.dumps(out, sort_keys=True))
