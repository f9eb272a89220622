# Creates a collection with Python bamboost 0.14 (argv[1] is its path), which writes
# Python's own index, ~/.local/share/bamboost/bamboost.0.11.sqlite. Prints what it wrote as
# JSON: {"uid": ..., "written": {name: {"parameters", "tags", "description", "status",
# "links"}}}, parameters in the canonical form of index_common.canon.
import datetime
import json
import sys

import numpy as np
from bamboost import Collection
from index_common import canon

c = Collection(sys.argv[1])
c.metadata.update(
    {"description": "written by python", "tags": ["pyc"], "aliases": ["pyalias"]}
)
c.metadata.save()

simulations = {
    "target": dict(
        parameters={"a": 1, "b": 0.5, "s": "target"},
        tags=["t"],
        description="the target",
    ),
    "sim1": dict(
        parameters={
            "a": 2,
            "b": 2.5,
            "s": "héllo",
            "flag": True,
            "none": None,
            "lst": [1, 2, 3],
            "strs": ["p", "q"],
            "nested": {"k": 1, "deep": {"z": "v"}},
            "arr": np.array([1.0, 2.0, 3.0]),
            "when": datetime.datetime(2026, 11, 21, 11, 21, 40, 719201),
            "z": complex(1, -2),
        },
        tags=["x", "y"],
        description="first",
        links={"ref": f"{c.uid}:target"},
    ),
    "sim2": dict(
        parameters={"a": 3, "b": 7.25, "s": "world", "flag": False, "nested": {"k": 5}},
        tags=["y"],
    ),
}
written = {}
for name, spec in simulations.items():
    sim = c.add(name, **spec)
    if name == "sim1":
        with sim:
            pass
        status = "finished"
    elif name == "sim2":
        try:
            with sim:
                raise ValueError("boom")
        except ValueError:
            pass
        status = "failed [boom]"
    else:
        status = "initialized"
    written[name] = {
        "parameters": canon(spec["parameters"]),
        "tags": sorted(spec.get("tags", [])),
        "description": spec.get("description", ""),
        "status": status,
        "links": spec.get("links", {}),
    }
print(json.dumps({"uid": str(c.uid), "written": written}, sort_keys=True))
