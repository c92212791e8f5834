"""Write sample.json for the web page from a reference .npz (the arrays
'input:<name>' that bridge's fixtures and examples/small_cnn.npz hold):

    python3 make_sample.py ../small_cnn.npz sample.json
"""
import json
import sys

import numpy as np


def sample(npz_path: str) -> dict:
    with np.load(npz_path) as z:
        ins = {k[len("input:"):]: z[k] for k in z.files if k.startswith("input:")}
    return {"inputs": {name: {"dims": list(a.shape), "type": str(a.dtype),
                              "data": a.reshape(-1).tolist()} for name, a in ins.items()}}


if __name__ == "__main__":
    src, dst = sys.argv[1], sys.argv[2]
    with open(dst, "w") as fh:
        json.dump(sample(src), fh)
    print(f"wrote {dst}")
