# Shared by the index_*.py scripts of tests/test_index_interop.rs: values as canonical JSON,
# the same encoding the Rust test builds from its own values (`canonical` there).
import datetime
import math

import numpy as np


def canon(v):
    """A value as canonical JSON: arrays as nested lists, NaN and infinities as strings,
    datetimes and complex numbers as one-key objects, sets sorted."""
    if isinstance(v, np.ndarray):
        return canon(v.tolist())
    if isinstance(v, np.generic):
        return canon(v.item())
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, datetime.datetime):
        return {"datetime": v.isoformat()}
    if isinstance(v, complex):
        return {"complex": [v.real, v.imag]}
    if isinstance(v, set):
        return {"set": sorted(canon(x) for x in v)}
    if isinstance(v, (list, tuple)):
        return [canon(x) for x in v]
    if isinstance(v, dict):
        return {str(k): canon(x) for k, x in v.items()}
    return str(v)


def iso(t):
    """`datetime.isoformat()`, or None."""
    return None if t is None else t.isoformat()
