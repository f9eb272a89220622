# Prints what Python bamboost 0.14 reads from the index ~/.local/share/bamboost/
# bamboost.0.11.sqlite about one collection (argv[1]: its UID or an alias), as JSON. Nothing
# is synced: only the index API is used, and the collection is opened with
# sync_collection=False. tests/test_index_interop.rs builds the same JSON with bamboost-rs.
import json
import sys

from bamboost import Collection
from bamboost.index import Index
from index_common import canon, iso

key = sys.argv[1]
index = Index.default
record = index.collection(key)
if record is None:
    sys.exit(f"collection {key} is not in the index")

simulations = {}
backlinks = {}
for sim in record.simulations:
    simulations[sim.name] = {
        "parameters": canon(sim.parameter_dict),
        "tags": sorted(sim.tags),
        "description": sim.description or "",
        "status": sim.status,
        "created_at": iso(sim.created_at),
        "links": {k: str(v) for k, v in sim.links.items()},
    }
    found = index.backlinks(f"{record.uid}:{sim.name}")
    if found:
        backlinks[sim.name] = sorted([str(source), name] for source, name in found)

links = sorted(
    [str(link.source_uid), link.name, str(link.target_uid)]
    for link in index.collection_links(record.uid)
)

# The collection resolved by UID or alias through the index, and its DataFrame.
c = Collection(uid=key, sync_collection=False)
opened = {
    "uid": str(c.uid),
    "path": c.path.as_posix(),
    "names": sorted(c.df["name"]),
    "a_gt_1": sorted(c.filter(c.k["a"] > 1).df["name"]),
}

out = {
    "collection": {
        "uid": record.uid,
        "path": record.path,
        "description": record.description or "",
        "tags": list(record.tags),
        "aliases": list(record.aliases),
        "created_at": iso(record.created_at),
    },
    "simulations": simulations,
    "links": links,
    "backlinks": backlinks,
    "opened": opened,
}
print(json.dumps(out, sort_keys=True))
