# Writes the demo collection of the reference (section 2) with Python bamboost 0.14: argv[1] is
# its path; prints the collection UID.
import numpy as np, datetime, json, sys
from bamboost import Collection
from bamboost.core.simulation import FieldType
from bamboost.core.simulation.types import CellType
c = Collection(sys.argv[1])
target = c.add("target", parameters={"t": 1})
params = {"a": 1, "b": 2.5, "s": "héllo", "flag": True, "none": None,
          "when": datetime.datetime(2026, 11, 21, 11, 21, 40, 719201), "aset": {1, 2},
          "z": complex(1, -2), "lst": [1, 2, 3], "strlist": ["x", "y"], "arr": np.array([1.0, 2.0, 3.0, 4.0]),
          "nested": {"k": 1, "deep": {"z": "v"}, "arr2": np.array([[1.0, 2.0], [3.0, 4.0]])}}
sim = c.add("sim1", parameters=params, description="a demo", tags=["x", "y"], links={"ref": target.uid})
with sim:
    nodes = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    cells = np.array([[0, 1, 2], [0, 2, 3]])
    sim.meshes.add(nodes, cells, name="default", cell_type=CellType.TRIANGLE)
    for i, t in enumerate([0.0, 0.5, 1.0]):
        step = sim.data.require_step(t)
        step.add_field("u", nodes * (i + 1))
        step.add_field("p", np.arange(4.0) + i)
        step.add_field("c", np.array([10.0 * i, 20.0 * i]), field_type=FieldType.ELEMENT)
        step.add_scalar("energy", 1.5 * i)
        step.add_scalar("vec", np.array([i, -i], dtype=float))
    sim.metadata["custom_meta"] = "hello"
    lc = sim.require_series("loadcurve")
    lc.require_step(step=0)
    st = lc.require_step(7.0, step=3)
    st.add_scalar("force", 2.0)
print(c.uid)
