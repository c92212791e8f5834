"""Hostile input files for the converter: a deterministic corpus made by hand,
and the mutations the fuzz test (tests/test_fuzz.py) applies to real fixture
files. Everything is generated (nothing big is committed):

    python tests/make_hostile_files.py OUTDIR      # writes the hand-made corpus

What an attacker or a careless user can hand over: truncated and byte-flipped
files; configs with wrong types, huge numbers, NaN, missing keys, cycles,
deep nesting, huge names; weights of the wrong dtype or shape, non-finite,
missing, or declared far larger than the file; HDF5 external links, soft
links and external / virtual storage pointing at a local file holding a
known marker (a conversion must never copy its bytes into the output); zip
bombs, lying zip headers, CRC errors, encrypted or unknown-method entries;
FIFOs and devices given as files; destinations that cannot be written.

Each case is a dict: name, src, weights (or None), dst, and optionally
`expect` (an error class name, or "ok") and `words` the message must hold.
"""
from __future__ import annotations

import io
import json
import os
import random
import shutil
import struct
import sys
import warnings
import zipfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")

# -- the marker: a "local file" that must never reach an output -------------------

# A float32 word no real weight holds; the file repeats it, so any read of it
# as float32 (transposed or not) leaves runs of this word in the output.
MARKER_WORD = np.array([0x4B1D5EC2], np.uint32).view(np.float32)[0]
MARKER_TEXT = b"BRIDGE-FUZZ-LOCAL-SECRET "


def write_marker(folder: str) -> dict:
    """The local files a hostile model points at: `bin` (raw marker bytes),
    `h5` (an HDF5 file with the marker as dataset /data) and `fifo`."""
    import h5py
    os.makedirs(folder, exist_ok=True)
    words = np.full(16384, MARKER_WORD, np.float32)
    raw = MARKER_TEXT * 64 + words.tobytes()
    out = {"bin": os.path.join(folder, "secret.bin"), "h5": os.path.join(folder, "secret.h5"),
           "fifo": os.path.join(folder, "secret.fifo")}
    with open(out["bin"], "wb") as fh:
        fh.write(raw)
    with h5py.File(out["h5"], "w") as f:
        f["data"] = words.reshape(128, 128)
        for shape in [(3, 3, 3, 4), (3, 3, 4, 4), (5, 6), (6, 2), (6,), (2,), (4,), (8,), (16,)]:
            n = int(np.prod(shape))
            f[f"d{'x'.join(map(str, shape))}"] = words[:n].reshape(shape)
    if not os.path.exists(out["fifo"]):
        os.mkfifo(out["fifo"])
    return out


def marker_patterns() -> list:
    """Byte strings whose presence in an output means the marker leaked: the
    marker word as float32 (and the float32 values of its bytes read as
    float16 or float64), and its text."""
    word = np.full(4, MARKER_WORD, np.float32)
    raw = word.tobytes()
    pats = [raw[:8], MARKER_TEXT[:16]]
    pats.append(np.frombuffer(raw, np.float16)[:2].astype(np.float32).tobytes())
    f64 = np.frombuffer(raw, np.float64)[:1].astype(np.float32)
    if np.isfinite(f64).all() and f64[0] != 0:
        pats.append(np.repeat(f64, 2).tobytes())
    return pats


def leaked(data: bytes) -> bool:
    return any(p in data for p in marker_patterns())


# -- seeds ------------------------------------------------------------------------

def seed_files() -> list:
    """(src, weights) pairs of real fixture files to mutate: every .h5 model,
    .keras archive and architecture JSON with its weights."""
    out = []
    for folder, _, files in sorted(os.walk(FIXTURES)):
        for f in sorted(files):
            p = os.path.join(folder, f)
            if f.endswith(".keras"):
                out.append((p, None))
            elif f.endswith(".h5") and not f.endswith(("weights.h5", "_weights.h5")) and _is_model(p):
                out.append((p, None))
            elif f.endswith(".json"):
                w = _json_weights(p)
                if w:
                    out.append((p, w))
    return out


def _is_model(path: str) -> bool:
    import h5py
    try:
        with h5py.File(path, "r") as f:
            return "model_config" in f.attrs
    except OSError:
        return False


def _json_weights(path: str):
    stem = path[:-5]
    for cand in (stem + ".weights.h5", stem + "_weights.h5", stem + ".h5"):
        if os.path.exists(cand):
            return cand
    return None


# -- byte mutations ---------------------------------------------------------------

def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """One byte-level damage: truncation, flips, zeroed or random ranges,
    inserted or duplicated bytes, junk appended."""
    b = bytearray(data)
    n = len(b)
    op = rng.choice(["truncate", "flip", "flip", "zero", "random", "insert", "duplicate", "append",
                     "header", "chop_head"])
    if n == 0:
        return bytes(rng.getrandbits(8) for _ in range(16))
    if op == "truncate":
        return bytes(b[:rng.randrange(n)])
    if op == "flip":
        for _ in range(rng.choice([1, 1, 2, 4, 16, 64])):
            i = rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if op == "zero":
        i = rng.randrange(n)
        j = min(n, i + rng.choice([1, 8, 64, 512, 4096]))
        b[i:j] = bytes(j - i)
        return bytes(b)
    if op == "random":
        i = rng.randrange(n)
        j = min(n, i + rng.choice([1, 8, 64, 512]))
        b[i:j] = bytes(rng.getrandbits(8) for _ in range(j - i))
        return bytes(b)
    if op == "insert":
        i = rng.randrange(n)
        return bytes(b[:i]) + bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 7, 100]))) + bytes(b[i:])
    if op == "duplicate":
        i = rng.randrange(n)
        j = min(n, i + rng.choice([16, 256, 4096]))
        return bytes(b[:j]) + bytes(b[i:j]) + bytes(b[j:])
    if op == "append":
        return bytes(b) + bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 100, 5000])))
    if op == "header":          # the first 512 bytes: superblock / local header
        for _ in range(rng.choice([1, 2, 4])):
            i = rng.randrange(min(n, 512))
            b[i] = rng.getrandbits(8)
        return bytes(b)
    return bytes(b[rng.randrange(1, min(n, 64) + 1):])


# -- JSON (config) mutations --------------------------------------------------------

def _deep(depth: int) -> str:
    """A placeholder `dumps` writes as `depth` nested lists (too deep for
    Python's json to write itself)."""
    return f"\x00deep:{depth}\x00"


HOSTILE_VALUES = [
    None, True, False, 0, -1, 1, 3, 2 ** 31, 2 ** 40, 2 ** 63, -2 ** 63, 2 ** 64, 10 ** 30,
    0.5, -0.0, 1e308, float("nan"), float("inf"), float("-inf"), "", "x", "same", "valid",
    "channels_first", "relu", "\n\x00\u202e", "a" * 5000, [], {}, [None], [0], [-1], [2 ** 40],
    [1, 2], [[1, 2], [3, 4]], [None, 2 ** 31, 3], {"class_name": "Dense"}, {"config": {}},
    {"class_name": "Functional", "config": {}}, {"a": 1}, ["x", 0, 0], [["x", 0, 0]],
]


def _positions(obj, path=()):
    """Every (container, key, path) in a JSON tree."""
    out = []
    stack = [(obj, path)]
    while stack:
        o, p = stack.pop()
        if isinstance(o, dict):
            for k, v in o.items():
                out.append((o, k, p + (k,)))
                if isinstance(v, (dict, list)):
                    stack.append((v, p + (k,)))
        elif isinstance(o, list):
            for i, v in enumerate(o):
                out.append((o, i, p + (i,)))
                if isinstance(v, (dict, list)):
                    stack.append((v, p + (i,)))
    return out


def _layer_lists(cfg):
    """Every 'layers' list in the config (the model's and nested models')."""
    out = []
    for cont, key, _ in _positions(cfg):
        if key == "layers" and isinstance(cont[key], list):
            out.append(cont[key])
    if isinstance(cfg, list):
        out.append(cfg)
    return out


CLASS_NAMES = ["Dense", "Conv2D", "Conv1D", "LSTM", "GRU", "Bidirectional", "TimeDistributed",
               "BatchNormalization", "Embedding", "Reshape", "Flatten", "Add", "Concatenate",
               "MultiHeadAttention", "ZeroPadding2D", "UpSampling2D", "Resizing", "RepeatVector",
               "Functional", "Sequential", "Model", "InputLayer", "Lambda", "TFOpLambda",
               "SeparableConv2D", "DepthwiseConv2D", "LocallyConnected2D", "Normalization",
               "CategoryEncoding", "StringLookup", "Permute", "Cropping2D", "GlobalAveragePooling2D",
               "MaxPooling2D", "LayerNormalization", "Dot", "Attention", "ConvLSTM2D", "EinsumDense",
               "Discretization", "Hashing", "IntegerLookup", "NoSuchLayer"]


def mutate_config(cfg, rng: random.Random):
    """One config damage (returns the new config; may edit in place)."""
    pos = _positions(cfg)
    op = rng.choice(["value", "value", "value", "delete", "class", "layers", "io", "name",
                     "deep", "inbound", "dup_value", "nest_self", "code"])
    if op == "code":
        return _mutate_code(cfg, pos, rng)
    if op in ("value", "dup_value", "delete") and pos:
        cont, key, _ = rng.choice(pos)
        if op == "value":
            cont[key] = _copy(rng.choice(HOSTILE_VALUES))
        elif op == "dup_value":
            other = rng.choice(pos)
            cont[key] = _copy(other[0][other[1]])
        elif isinstance(cont, dict):
            del cont[key]
        else:
            del cont[key]
        return cfg
    lists = _layer_lists(cfg)
    if op == "class" and lists:
        layers = rng.choice(lists)
        specs = [s for s in layers if isinstance(s, dict)]
        if specs:
            rng.choice(specs)["class_name"] = rng.choice(CLASS_NAMES)
        return cfg
    if op == "layers" and lists:
        layers = rng.choice(lists)
        how = rng.choice(["reverse", "shuffle", "drop", "duplicate", "clear"])
        if how == "reverse":
            layers.reverse()
        elif how == "shuffle":
            rng.shuffle(layers)
        elif how == "drop" and layers:
            layers.pop(rng.randrange(len(layers)))
        elif how == "duplicate" and layers:
            layers.insert(rng.randrange(len(layers) + 1), _copy(rng.choice(layers)))
        elif how == "clear":
            layers.clear()
        return cfg
    if op == "io":
        for cont, key, _ in pos:
            if key in ("output_layers", "input_layers", "outputs", "inputs") and rng.random() < 0.6:
                choice = rng.choice(["delete", "empty", "ghost", "index"])
                if choice == "delete" and isinstance(cont, dict):
                    del cont[key]
                elif choice == "empty":
                    cont[key] = []
                elif choice == "ghost":
                    cont[key] = [["ghost", 0, 0]]
                else:
                    v = cont[key]
                    if isinstance(v, list) and v and isinstance(v[0], list) and len(v[0]) >= 3:
                        v[0][2] = rng.choice([1, 7, -1, 2 ** 40])
                break
        return cfg
    if op == "name" and lists:
        layers = rng.choice(lists)
        specs = [s for s in layers if isinstance(s, dict)]
        if specs:
            s = rng.choice(specs)
            name = rng.choice(["n" * 100000, "a/b", "x\ny", "", "名前", "..", "/", "model_weights"])
            s["name"] = name
            if isinstance(s.get("config"), dict):
                s["config"]["name"] = name
        return cfg
    if op == "deep":
        if pos:
            cont, key, _ = rng.choice(pos)
            cont[key] = _deep(rng.choice([100, 1000, 5000, 50000]))
        return cfg
    if op == "inbound":
        nodes = [(c, k) for c, k, _ in pos if k == "inbound_nodes"]
        if nodes:
            c, k = rng.choice(nodes)
            name = c.get("name") if isinstance(c, dict) else "x"
            c[k] = rng.choice([[[[name, 0, 0, {}]]], [[["ghost", 0, 0, {}]]], [[[name, 5, 9, {}]]],
                               "x", [[]], [[None]], _deep(500), [[["x", "0", "0", {}]]],
                               [{"args": [{"class_name": "__keras_tensor__",
                                           "config": {"keras_history": [name, 0, 0]}}]}]])
        return cfg
    if op == "nest_self" and lists:
        # the model as a layer of itself, a few levels deep
        layers = rng.choice(lists)
        spec = {"class_name": "Sequential", "config": {"name": "nest", "layers": _copy(layers)}}
        for _ in range(rng.choice([3, 40, 200])):
            spec = {"class_name": "Sequential", "config": {"name": "nest", "layers": [spec]}}
        layers.append(spec)
        return cfg
    return cfg


def _mutate_code(cfg, pos, rng: random.Random):
    """A Lambda's marshalled byte code (base64 in the config) damaged: the
    converter reads it with a reader of its own, which must survive it."""
    import base64
    import binascii
    spots = [(c, k) for c, k, _ in pos if isinstance(c[k], str) and len(c[k]) > 40
             and set(c[k]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n")]
    if not spots:
        return cfg
    cont, key = rng.choice(spots)
    try:
        code = base64.b64decode(cont[key])
    except (binascii.Error, ValueError):
        return cfg
    how = rng.choice(["bytes", "bytes", "length", "nest", "truncate"])
    b = bytearray(code)
    if how == "bytes" or not b:
        b = bytearray(mutate_bytes(bytes(b), rng))
    elif how == "length":        # a marshal size field claiming gigabytes
        i = rng.randrange(len(b))
        b[i:i + 5] = bytes([rng.choice([0x73, 0x29, 0x5b, 0x7a, 0x61])]) + struct.pack("<I", rng.choice(
            [0x7FFFFFFF, 0xFFFFFFFF, 1 << 30, 100000]))
    elif how == "nest":          # tuples inside tuples, thousands deep
        b = bytearray(b"\xa9\x01" * rng.choice([100, 5000, 100000]) + b"N")
    else:
        b = b[:rng.randrange(len(b))]
    cont[key] = base64.b64encode(bytes(b)).decode("ascii")
    return cfg


def _copy(v):
    return json.loads(json.dumps(v))


def dumps(cfg) -> str:
    """JSON text of a mutated config, deep placeholders expanded."""
    text = json.dumps(cfg)
    out, pos = [], 0
    while True:
        i = text.find('"\\u0000deep:', pos)
        if i < 0:
            break
        j = text.index('\\u0000"', i + 8)
        depth = int(text[i + 12:j])
        out.append(text[pos:i] + "[" * depth + "0" + "]" * depth)
        pos = j + 7
    return "".join(out) + text[pos:]


# -- HDF5 mutations --------------------------------------------------------------

def _hard(f) -> list:
    """(name, object) of everything reached by hard links only (following a
    soft or external link an earlier mutation made could open a FIFO)."""
    import h5py
    out = []

    def visit(name, link):
        if isinstance(link, h5py.HardLink):
            out.append((name, f[name]))
    f.visititems_links(visit)
    return out


def _datasets(f) -> list:
    import h5py
    return [n for n, o in _hard(f) if isinstance(o, h5py.Dataset)]


def _groups(f) -> list:
    import h5py
    return [""] + [n for n, o in _hard(f) if isinstance(o, h5py.Group)]


def mutate_h5(path: str, rng: random.Random, env: dict) -> None:
    """One structural damage to the HDF5 file at `path` (in place): weights
    of other dtypes / shapes / values, missing or relinked datasets,
    external links and storage, attributes."""
    import h5py
    with h5py.File(path, "r+") as f:
        ds = _datasets(f)
        op = rng.choice(["dtype", "dtype", "shape", "values", "delete", "group", "softlink",
                         "extlink", "external", "virtual", "huge", "huge_gzip", "attr", "attr",
                         "config"] if ds else ["attr", "config", "extlink_group"])
        if op == "config" and "model_config" in f.attrs:
            raw = f.attrs["model_config"]
            raw = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            try:
                cfg = json.loads(raw)
            except ValueError:
                cfg = {}
            f.attrs["model_config"] = dumps(mutate_config(cfg, rng))
            return
        if op in ("attr", "config", "extlink_group"):
            _mutate_attrs(f, rng, env)
            return
        name = rng.choice(ds)
        d = f[name]
        arr = _own_data(d)
        parent, leaf = name.rsplit("/", 1) if "/" in name else ("", name)
        g = f[parent] if parent else f
        if op == "dtype":
            kind = rng.choice(["i8", "i4", "u1", "bool", "c8", "f2", "f8", "str", "S4", "compound",
                               "V2", "enum"])
            del g[leaf]
            shape = arr.shape
            if kind == "str":
                g.create_dataset(leaf, shape=shape, dtype=h5py.string_dtype())
            elif kind == "compound":
                g.create_dataset(leaf, shape=shape, dtype=np.dtype([("a", "f4"), ("b", "i4")]))
            elif kind == "enum":
                g.create_dataset(leaf, shape=shape, dtype=h5py.enum_dtype({"A": 0, "B": 1}, basetype="i1"))
            elif kind == "V2":
                g.create_dataset(leaf, data=np.zeros(shape, np.float16).view("V2"))
            elif kind == "S4":
                g.create_dataset(leaf, data=np.zeros(shape, "S4"))
            else:
                g.create_dataset(leaf, data=(np.asarray(arr, np.float64) * 3).astype(kind))
        elif op == "shape":
            del g[leaf]
            a = np.asarray(arr)
            new = rng.choice([a.T, a.reshape(-1), a[..., None], np.zeros(()), np.zeros((0,)),
                              np.zeros(a.shape + (2,)), a.reshape(1, -1), np.zeros((7,) * max(a.ndim, 1))])
            g.create_dataset(leaf, data=np.asarray(new, a.dtype if a.dtype.kind == "f" else "f4"))
        elif op == "values":
            a = np.array(arr, dtype=np.float64)
            if a.size:
                v = rng.choice([np.nan, np.inf, -np.inf, 3e38, -1.0, 0.0, 1e-45, 65504.0, 1e300])
                if rng.random() < 0.5:
                    a.flat[rng.randrange(a.size)] = v
                else:
                    a[...] = v
                d[...] = a.astype(d.dtype)
        elif op == "delete":
            del g[leaf]
        elif op == "group":
            del g[leaf]
            g.create_group(leaf)
        elif op == "softlink":
            del g[leaf]
            g[leaf] = h5py.SoftLink(rng.choice(["/nonexistent", "/" + name, "/" + (rng.choice(ds)),
                                                "/" + name + "_cycle"]))
            if rng.random() < 0.5:
                f[name + "_cycle"] = h5py.SoftLink("/" + name)
        elif op == "extlink":
            del g[leaf]
            g[leaf] = h5py.ExternalLink(rng.choice([env["h5"], env["fifo"], "/dev/zero",
                                                    "/nonexistent.h5"]),
                                        rng.choice(["/data", _marker_set(arr.shape)]))
        elif op == "external":
            del g[leaf]
            n = int(np.prod(arr.shape)) if arr.shape else 1
            g.create_dataset(leaf, shape=arr.shape, dtype="f4",
                             external=[(rng.choice([env["bin"], env["fifo"]]),
                                        len(MARKER_TEXT) * 64, max(n, 1) * 4)])
        elif op == "virtual":
            del g[leaf]
            shape = arr.shape if arr.ndim == 2 and max(arr.shape) <= 128 else (128, 128)
            layout = h5py.VirtualLayout(shape=shape, dtype="f4")
            src = h5py.VirtualSource(env["h5"], "data", shape=(128, 128))
            layout[...] = src[:shape[0], :shape[1]]
            g.create_virtual_dataset(leaf, layout, fillvalue=0)
        elif op == "huge":
            del g[leaf]
            shape = rng.choice([(2 ** 16, 2 ** 16), (2 ** 40,), arr.shape[:-1] + (2 ** 31,) if arr.ndim
                                else (2 ** 34,), (1 << 20,) * 3])
            g.create_dataset(leaf, shape=shape, dtype="f4", chunks=True)
        elif op == "huge_gzip":
            del g[leaf]
            g.create_dataset(leaf, shape=(1 << 28,), dtype="f4", chunks=(1 << 20,), compression="gzip",
                             fillvalue=0.0)
            g[leaf][:1 << 20] = 0.0


def _own_data(d) -> np.ndarray:
    """The dataset's values when the file holds them (an earlier mutation may
    have pointed it at the FIFO), else zeros of its shape; small or huge,
    at most 1 MiB is read."""
    import h5py
    plist = d.id.get_create_plist()
    small = d.shape is not None and int(np.prod(d.shape, dtype=object)) * d.dtype.itemsize <= 1 << 20
    if plist.get_external_count() or plist.get_layout() == h5py.h5d.VIRTUAL or not small:
        return np.zeros(d.shape if small else (4,), np.float32)
    return np.asarray(d[()])


def _marker_set(shape) -> str:
    key = "x".join(map(str, shape))
    return f"/d{key}" if key in ("3x3x3x4", "3x3x4x4", "5x6", "6x2", "6", "2", "4", "8", "16") else "/data"


def _mutate_attrs(f, rng: random.Random, env: dict) -> None:
    import h5py
    groups = _groups(f)
    g = f[rng.choice(groups)] if groups else f
    keys = list(g.attrs.keys())
    op = rng.choice(["layer_names", "weight_names", "delete", "garbage", "version", "backend",
                     "extlink_group", "huge_list"])
    if op == "extlink_group":
        target = f["model_weights"] if "model_weights" in f else f
        names = [n for n in target.keys()]
        if names:
            leaf = rng.choice(names)
            del target[leaf]
            target[leaf] = h5py.ExternalLink(env["h5"], "/")
        return
    if op in ("layer_names", "weight_names", "huge_list"):
        cands = [x for x in _groups(f) if op.replace("huge_list", "layer_names") in f[x].attrs or
                 "weight_names" in f[x].attrs] if groups else []
        if not cands:
            return
        gg = f[rng.choice(cands)]
        key = "layer_names" if "layer_names" in gg.attrs else "weight_names"
        vals = list(gg.attrs[key])
        how = rng.choice(["drop", "ghost", "ints", "dup", "empty", "many", "long"])
        if op == "huge_list":
            how = "many"
        if how == "drop" and vals:
            vals.pop(rng.randrange(len(vals)))
            gg.attrs[key] = np.array(vals, dtype="S") if vals else np.zeros((0,), "S1")
        elif how == "ghost":
            gg.attrs[key] = np.array(vals + [b"ghost"], dtype="S")
        elif how == "ints":
            gg.attrs[key] = np.arange(len(vals) + 1)
        elif how == "dup" and vals:
            gg.attrs[key] = np.array(vals + vals[:1], dtype="S")
        elif how == "empty":
            gg.attrs[key] = np.zeros((0,), "S1")
        elif how == "many":
            del gg.attrs[key]
            for i in range(rng.choice([2, 50])):
                gg.attrs[f"{key}{i}"] = np.array([b"ghost%d" % j for j in range(1000)], dtype="S")
        elif how == "long":
            gg.attrs[key] = np.array([b"n" * 60000], dtype="S")
        return
    if op == "delete" and keys:
        del g.attrs[rng.choice(keys)]
    elif op == "garbage" and keys:
        g.attrs[rng.choice(keys)] = rng.choice([np.arange(10), b"\xff\xfe\x00", np.zeros((3, 3)), 7,
                                                 np.array([b"a", b"b"])])
    elif op == "version":
        f.attrs["keras_version"] = rng.choice([b"1.2.2", b"2.1.6", b"3.0.0", b"999", b"", b"x.y",
                                                b"2.15.0-tf", np.arange(3)])
    elif op == "backend":
        f.attrs["backend"] = rng.choice([b"theano", b"cntk", b"jax", b"", np.arange(3)])


# -- .keras (zip) mutations ------------------------------------------------------------

def _zip_entries(path: str) -> list:
    with zipfile.ZipFile(path) as z:
        return [(i, z.read(i.filename)) for i in z.infolist()]


def _write_zip(path: str, entries, method=zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in entries:
            z.writestr(name, data)


def mutate_keras(path: str, rng: random.Random, env: dict, work: str) -> None:
    """One damage to the .keras archive at `path` (in place)."""
    with zipfile.ZipFile(path) as z:
        if sum(i.file_size for i in z.infolist()) > 64 << 20:
            return                      # a bomb already: damaged enough
    entries = [(i.filename, d) for i, d in _zip_entries(path)]
    op = rng.choice(["config", "config", "weights", "weights", "weights", "drop", "dup", "deflate",
                     "bzip2", "lzma", "crc", "encrypted", "method", "lie_size", "bomb_config",
                     "bomb_weights", "metadata", "rename", "nested_zip"])
    names = [n for n, _ in entries]
    if op == "config" and "config.json" in names:
        i = names.index("config.json")
        try:
            cfg = json.loads(entries[i][1])
        except ValueError:
            cfg = {}
        entries[i] = ("config.json", dumps(mutate_config(cfg, rng)).encode())
        _write_zip(path, entries)
    elif op == "weights" and "model.weights.h5" in names:
        i = names.index("model.weights.h5")
        tmp = os.path.join(work, "inner.weights.h5")
        with open(tmp, "wb") as fh:
            fh.write(entries[i][1])
        try:
            mutate_h5(tmp, rng, env)
        except Exception:
            with open(tmp, "wb") as fh:
                fh.write(mutate_bytes(entries[i][1], rng))
        with open(tmp, "rb") as fh:
            entries[i] = ("model.weights.h5", fh.read())
        _write_zip(path, entries)
    elif op == "drop" and entries:
        entries.pop(rng.randrange(len(entries)))
        _write_zip(path, entries)
    elif op == "dup" and entries:
        entries.append(entries[rng.randrange(len(entries))])
        _write_zip(path, entries)
    elif op in ("deflate", "bzip2", "lzma"):
        _write_zip(path, entries, {"deflate": zipfile.ZIP_DEFLATED, "bzip2": zipfile.ZIP_BZIP2,
                                   "lzma": zipfile.ZIP_LZMA}[op])
    elif op == "crc":
        _write_zip(path, entries)
        data = bytearray(open(path, "rb").read())
        with zipfile.ZipFile(path) as z:
            info = rng.choice(z.infolist())
        i = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        if info.compress_size:
            data[i + rng.randrange(info.compress_size)] ^= 0xFF
        open(path, "wb").write(bytes(data))
    elif op in ("encrypted", "method", "lie_size"):
        _write_zip(path, entries)
        _patch_zip_headers(path, op, rng)
    elif op == "bomb_config":
        _write_bomb(path, entries, "config.json", rng.choice([64, 512]) << 20, b" ")
    elif op == "bomb_weights":
        _write_bomb(path, entries, "model.weights.h5", rng.choice([64, 512]) << 20, b"\0")
    elif op == "metadata":
        entries = [(n, d) for n, d in entries if n != "metadata.json"]
        entries.append(("metadata.json", rng.choice([b'{"keras_version": "2.15.0"}', b"[", b"{}",
                                                     b'{"keras_version": 3}', b'"x"'])))
        _write_zip(path, entries)
    elif op == "rename" and entries:
        i = rng.randrange(len(entries))
        entries[i] = (rng.choice(["../../etc/passwd", "/abs.h5", "model.weights.npz", "x.weights.h5",
                                  "config.json", "a" * 200]), entries[i][1])
        _write_zip(path, entries)
    elif op == "nested_zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for n, d in entries:
                z.writestr(n, d)
        entries = [(n, buf.getvalue() if n == "model.weights.h5" else d) for n, d in entries]
        _write_zip(path, entries)


def _patch_zip_headers(path: str, op: str, rng: random.Random) -> None:
    data = bytearray(open(path, "rb").read())
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
    info = rng.choice(infos)
    pos = 0
    targets = []
    while True:
        pos = data.find(b"PK\x01\x02", pos)
        if pos < 0:
            break
        fname_len = struct.unpack_from("<H", data, pos + 28)[0]
        if bytes(data[pos + 46:pos + 46 + fname_len]).decode("utf-8", "replace") == info.filename:
            targets.append(pos)
        pos += 4
    for pos in targets:
        if op == "encrypted":
            flags = struct.unpack_from("<H", data, pos + 8)[0]
            struct.pack_into("<H", data, pos + 8, flags | 1)
            struct.pack_into("<H", data, info.header_offset + 6, flags | 1)
        elif op == "method":
            struct.pack_into("<H", data, pos + 10, rng.choice([1, 6, 9, 97, 99, 0xFFFF]))
            struct.pack_into("<H", data, info.header_offset + 8, 99)
        else:  # the uncompressed size the headers claim
            lie = rng.choice([0, 1, 2 ** 32 - 1, info.file_size * 1000 % 2 ** 32])
            struct.pack_into("<I", data, pos + 24, lie)
            struct.pack_into("<I", data, info.header_offset + 22, lie)
    open(path, "wb").write(bytes(data))


_BOMBS: dict = {}
_BOMB_HEAD = b'{"class_name": "Sequential", "config": {"layers": []}}'


def _bomb(size: int, fill: bytes, head: bytes) -> tuple:
    """(deflated body, crc, total size) of `head` then `fill` up to `size`
    bytes; made once per process (compressing is the slow part)."""
    key = (size, fill, head)
    if key not in _BOMBS:
        comp = zlib.compressobj(1, zlib.DEFLATED, -15)
        chunk = fill * (1 << 20)
        parts = [comp.compress(head)]
        crc = zlib.crc32(head)
        for _ in range((size - len(head)) // len(chunk)):
            parts.append(comp.compress(chunk))
            crc = zlib.crc32(chunk, crc)
        parts.append(comp.flush())
        _BOMBS[key] = (b"".join(parts), crc, len(head) + (size - len(head)) // len(chunk) * len(chunk))
    return _BOMBS[key]


def _write_bomb(path: str, entries, name: str, size: int, fill: bytes) -> None:
    """`name` replaced by `size` bytes of `fill` (deflated: about size/1000
    bytes in the archive), the header telling the truth."""
    body, crc, total = _bomb(size, fill, _BOMB_HEAD if name == "config.json" else b"")
    others = [(n, d) for n, d in entries if n != name]
    _write_zip(path, others)
    _append_raw_entry(path, name, body, total, crc)


def _append_raw_entry(path: str, name: str, body: bytes, size: int, crc: int) -> None:
    """Add a deflated entry whose compressed bytes are given (zipfile cannot
    stream-compress gigabytes it does not have)."""
    with zipfile.ZipFile(path, "a") as z:
        info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.file_size = size
        info.compress_size = len(body)
        info.CRC = crc
        z.fp.seek(z.start_dir)
        info.header_offset = z.fp.tell()
        z._writecheck(info)
        z._didModify = True
        z.fp.write(info.FileHeader(zip64=size > zipfile.ZIP64_LIMIT))
        z.fp.write(body)
        z.start_dir = z.fp.tell()
        z.filelist.append(info)
        z.NameToInfo[name] = info


# -- one mutated case ---------------------------------------------------------------

def mutate_file(src: str, weights, out_dir: str, plan: list, env: dict) -> dict:
    """Apply `plan` (a list of (kind, seed)) to copies of src (and weights);
    return the case dict. kind: 'bytes', 'structure' (config / HDF5 / zip by
    the file's kind), 'config' (the model config only), or 'weights' (the
    weights file of a JSON pair)."""
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.basename(src)
    new_src = os.path.join(out_dir, base)
    shutil.copyfile(src, new_src)
    new_w = None
    if weights:
        new_w = os.path.join(out_dir, os.path.basename(weights))
        shutil.copyfile(weights, new_w)
    # byte damage last: h5py (HDF5's C library) can loop forever opening a
    # file whose bytes were damaged, and the mutations must always finish
    for kind, seed in sorted(plan, key=lambda step: step[0] == "bytes"):
        rng = random.Random(seed)
        warnings.simplefilter("ignore")         # (numpy's overflow, zipfile's duplicate names)
        target = new_w if kind == "weights" and new_w else new_src
        try:
            if kind == "bytes":
                data = open(target, "rb").read()
                open(target, "wb").write(mutate_bytes(data, rng))
            elif kind == "config":
                _mutate_config_of(target, rng)
            elif target.endswith(".keras"):
                mutate_keras(target, rng, env, out_dir)
            elif target.endswith(".json"):
                try:
                    cfg = json.load(open(target))
                except ValueError:
                    cfg = {}
                open(target, "w").write(dumps(mutate_config(cfg, rng)))
            else:
                mutate_h5(target, rng, env)
        except Exception:   # noqa: BLE001 -- an earlier damage made this one impossible
            pass            # (h5py, zipfile and zlib raise many types): keep the file as it is
    return {"name": f"{base}:{plan}", "src": new_src, "weights": new_w,
            "dst": os.path.join(out_dir, "out.onnx")}


def _mutate_config_of(path: str, rng: random.Random) -> None:
    """One config damage, wherever the file keeps its config."""
    if path.endswith(".keras"):
        entries = _entries(path)
        for i, (n, d) in enumerate(entries):
            if n == "config.json":
                entries[i] = (n, dumps(mutate_config(_loads(d), rng)).encode())
        _write_zip(path, entries)
    elif path.endswith(".json"):
        with open(path, "rb") as fh:
            cfg = _loads(fh.read())
        with open(path, "w") as fh:
            fh.write(dumps(mutate_config(cfg, rng)))
    else:
        import h5py
        with h5py.File(path, "r+") as f:
            raw = f.attrs.get("model_config", b"{}")
            f.attrs["model_config"] = dumps(mutate_config(_loads(raw), rng))


def _loads(raw):
    try:
        return json.loads(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw))
    except ValueError:
        return {}


# -- the hand-made corpus --------------------------------------------------------------

def _fixture(*parts) -> str:
    return os.path.join(FIXTURES, *parts)


DENSE = _fixture("models", "intermediate_output.h5")
CNN_K3 = _fixture("formats", "k3_cnn.keras")
NESTED_H5 = _fixture("models", "nested_bn_training_false.h5")
JSON_PAIR = (_fixture("formats", "tfk_json_renamed.json"), _fixture("formats", "tfk_json_renamed_weights.h5"))


def _edit_h5(path: str, fn) -> None:
    import h5py
    with h5py.File(path, "r+") as f:
        fn(f)


def _edit_cfg(path: str, fn) -> None:
    def edit(f):
        cfg = json.loads(f.attrs["model_config"])
        fn(cfg)
        f.attrs["model_config"] = dumps(cfg)
    _edit_h5(path, edit)


def _layer(cfg, name):
    return [lyr for lyr in cfg["config"]["layers"] if lyr["name"] == name][0]


def _replace_ds(f, name, **kw):
    import h5py
    parent, leaf = name.rsplit("/", 1)
    del f[parent][leaf]
    if "link" in kw:
        f[parent][leaf] = kw["link"]
    elif "virtual" in kw:
        f[parent].create_virtual_dataset(leaf, kw["virtual"], fillvalue=0)
    else:
        f[parent].create_dataset(leaf, **kw)
    del h5py


KERNEL = "model_weights/hidden/hidden/kernel:0"


def _reverse_chain(n: int):
    """A functional chain of n Activation layers, listed output first."""
    layers = [{"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32",
                                                      "name": "x"}, "name": "x", "inbound_nodes": []}]
    prev = "x"
    for i in range(n):
        layers.append({"class_name": "Activation", "config": {"name": f"a{i}", "activation": "relu"},
                       "name": f"a{i}", "inbound_nodes": [[[prev, 0, 0, {}]]]})
        prev = f"a{i}"
    return {"class_name": "Functional", "keras_version": "2.15.0", "backend": "tensorflow",
            "config": {"name": "chain", "layers": [layers[0]] + layers[:0:-1],
                       "input_layers": [["x", 0, 0]], "output_layers": [[prev, 0, 0]]}}


def hand_made(out_dir: str, env: dict) -> list:
    """The corpus: (name, how to make it, expected error class or 'ok',
    words the message must hold) -> case dicts with files under out_dir."""
    import h5py
    cases = []

    def case(name, src, expect, words=(), weights=None, dst=None, **more):
        cases.append({"name": name, "src": src, "weights": weights, "expect": expect, "words": list(words),
                      "dst": dst or os.path.join(out_dir, name + ".out.onnx"), **more})

    def copy(name, fixture=DENSE):
        p = os.path.join(out_dir, name + os.path.splitext(fixture)[1])
        shutil.copyfile(fixture, p)
        return p

    # -- HDF5 links and storage that leave the file
    p = copy("extlink_kernel")
    _edit_h5(p, lambda f: _replace_ds(f, KERNEL, link=h5py.ExternalLink(env["h5"], "/d5x6")))
    case("extlink_kernel", p, "InputFileError", ["external link"])
    p = copy("extlink_fifo")
    _edit_h5(p, lambda f: _replace_ds(f, KERNEL, link=h5py.ExternalLink(env["fifo"], "/d5x6")))
    case("extlink_fifo", p, "InputFileError", ["external link"])
    p = copy("extlink_group")

    def ext_group(f):
        del f["model_weights"]["hidden"]
        f["model_weights"]["hidden"] = h5py.ExternalLink(env["h5"], "/")
    _edit_h5(p, ext_group)
    case("extlink_group", p, "InputFileError", ["external link"])
    p = copy("external_storage")
    _edit_h5(p, lambda f: _replace_ds(f, KERNEL, shape=(5, 6), dtype="f4",
                                      external=[(env["bin"], len(MARKER_TEXT) * 64, 120)]))
    case("external_storage", p, "InputFileError", ["external storage"])
    p = copy("external_storage_fifo")
    _edit_h5(p, lambda f: _replace_ds(f, KERNEL, shape=(5, 6), dtype="f4", external=[(env["fifo"], 0, 120)]))
    case("external_storage_fifo", p, "InputFileError", ["external storage"])
    p = copy("virtual_dataset")
    layout = h5py.VirtualLayout(shape=(5, 6), dtype="f4")
    layout[:] = h5py.VirtualSource(env["h5"], "data", shape=(128, 128))[:5, :6]
    _edit_h5(p, lambda f: _replace_ds(f, KERNEL, virtual=layout))
    case("virtual_dataset", p, "InputFileError", ["virtual"])
    p = copy("softlink_outside")
    _edit_h5(p, lambda f: _replace_ds(f, KERNEL, link=h5py.SoftLink("/nowhere/kernel")))
    case("softlink_outside", p, "WeightsError", ["kernel"])
    p = copy("softlink_cycle")

    def cycle(f):
        _replace_ds(f, KERNEL, link=h5py.SoftLink("/loop_a"))
        f["loop_a"] = h5py.SoftLink("/loop_b")
        f["loop_b"] = h5py.SoftLink("/loop_a")
    _edit_h5(p, cycle)
    case("softlink_cycle", p, "InputFileError", ["loop"])

    # -- weights
    for kind in ("i8", "bool", "c8", "str"):
        p = copy(f"kernel_{kind}")
        if kind == "str":
            _edit_h5(p, lambda f: _replace_ds(f, KERNEL, shape=(5, 6), dtype=h5py.string_dtype()))
        else:
            _edit_h5(p, lambda f, k=kind: _replace_ds(f, KERNEL, data=np.ones((5, 6), k)))
        case(f"kernel_{kind}", p, "WeightsError", ["hidden", "kernel", {"i8": "int64", "bool": "bool",
                                                                         "c8": "complex", "str": "strings"}[kind]])
    p = copy("kernel_shape")
    _edit_h5(p, lambda f: _replace_ds(f, KERNEL, data=np.ones((6, 5), "f4")))
    case("kernel_shape", p, "WeightsError", ["'hidden'", "(6, 5)", "(5, 6)"])
    p = copy("kernel_unallocated_huge")
    _edit_h5(p, lambda f: _replace_ds(f, KERNEL, shape=(2 ** 20, 2 ** 16), dtype="f4", chunks=(256, 256)))
    case("kernel_unallocated_huge", p, "LimitError", ["kernel"])
    p = copy("kernel_gzip_bomb")
    _edit_h5(p, lambda f: _replace_ds(f, KERNEL, shape=(1 << 28,), dtype="f4", chunks=(1 << 20,),
                                      compression="gzip", fillvalue=0.0))
    case("kernel_gzip_bomb", p, "LimitError", ["kernel"])
    p = copy("kernel_nan")
    _edit_h5(p, lambda f: f[KERNEL].__setitem__(Ellipsis, np.nan))
    case("kernel_nan", p, "ok")
    p = copy("missing_weight_dataset")
    _edit_h5(p, lambda f: f["model_weights/hidden/hidden"].__delitem__("kernel:0"))
    case("missing_weight_dataset", p, "WeightsError", ["kernel", "hidden"])
    p = copy("weight_is_group")
    _edit_h5(p, lambda f: (f["model_weights/hidden/hidden"].__delitem__("kernel:0"),
                           f["model_weights/hidden/hidden"].create_group("kernel:0")))
    case("weight_is_group", p, "WeightsError", ["kernel"])

    # -- configs
    def cfg_case(name, fn, expect, words=(), fixture=DENSE):
        p = copy(name, fixture)
        _edit_cfg(p, fn)
        case(name, p, expect, words)

    cfg_case("no_output_layers", lambda c: c["config"].pop("output_layers"), "ConfigError", ["output"])
    cfg_case("empty_output_layers", lambda c: c["config"].__setitem__("output_layers", []), "ConfigError",
             ["output"])
    cfg_case("no_input_layers", lambda c: c["config"].pop("input_layers"), "ConfigError")
    cfg_case("output_index_out_of_range",
             lambda c: c["config"].__setitem__("output_layers", [["head", 0, 3]]), "ConfigError")
    cfg_case("units_2_40", lambda c: _layer(c, "hidden")["config"].__setitem__("units", 2 ** 40),
             "WeightsError", ["hidden"])
    cfg_case("units_string", lambda c: _layer(c, "hidden")["config"].__setitem__("units", "six"),
             "ConfigError", ["hidden"])
    cfg_case("activation_list", lambda c: _layer(c, "hidden")["config"].__setitem__("activation", [1]),
             None, ["hidden"])
    cfg_case("input_shape_2_40",
             lambda c: _layer(c, "x")["config"].__setitem__("batch_input_shape", [None, 2 ** 40]), None)
    cfg_case("input_shape_nan",
             lambda c: _layer(c, "x")["config"].__setitem__("batch_input_shape", [None, float("nan")]),
             "ConfigError", ["x"])
    cfg_case("self_loop", lambda c: _layer(c, "hidden").__setitem__("inbound_nodes", [[["hidden", 0, 0, {}]]]),
             "ConfigError", ["hidden"])
    cfg_case("huge_name", lambda c: _rename(c, "hidden", "h" * 100000 + "\nnext line"), None)
    cfg_case("deep_inbound", lambda c: _layer(c, "hidden").__setitem__("inbound_nodes", _deep(50000)),
             "LimitError", ["max_json_depth"])
    cfg_case("deep_config", lambda c: _layer(c, "hidden")["config"].__setitem__("units", _deep(100000)),
             "LimitError", ["max_json_depth"])
    cfg_case("nan_in_config", lambda c: _layer(c, "hidden")["config"].__setitem__("units", float("nan")),
             "ConfigError", ["hidden"])
    cfg_case("class_name_int", lambda c: _layer(c, "hidden").__setitem__("class_name", 7), "ConfigError")
    cfg_case("config_is_list", lambda c: c.__setitem__("config", [1, 2]), "ConfigError")
    cfg_case("nested_40", lambda c: _nest(c, 40), "LimitError", ["max_model_depth"])
    cfg_case("nested_100", lambda c: _nest(c, 100), "LimitError", ["max_json_depth"])
    for cls, key, val in [("ZeroPadding2D", "padding", [[2 ** 40, 2 ** 40], [1, 1]]),
                          ("UpSampling2D", "size", [2 ** 40, 2 ** 40]),
                          ("Reshape", "target_shape", [2 ** 40, -1]),
                          ("RepeatVector", "n", 2 ** 40),
                          ("Resizing", "height", 2 ** 30),
                          ("Cropping2D", "cropping", [[2 ** 40, 0], [0, 0]])]:
        cfg_case(f"dim_{cls}", lambda c, cls=cls, key=key, val=val: _swap_class(c, cls, key, val), None,
                 fixture=DENSE)

    # -- archives
    p = copy("zip_crc", CNN_K3)
    data = bytearray(open(p, "rb").read())
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("model.weights.h5")
    data[info.header_offset + 30 + len(info.filename) + len(info.extra) + 100] ^= 0xFF
    open(p, "wb").write(bytes(data))
    case("zip_crc", p, "InputFileError", ["damaged"])
    for op in ("encrypted", "method", "lie_size"):
        p = copy(f"zip_{op}", CNN_K3)
        _patch_zip_headers(p, op, random.Random(op))
        case(f"zip_{op}", p, None)
    p = copy("zip_bomb_config", CNN_K3)
    _write_bomb(p, _entries(p), "config.json", 256 << 20, b" ")
    case("zip_bomb_config", p, "LimitError", ["config.json"])
    p = copy("zip_bomb_weights", CNN_K3)
    _write_bomb(p, _entries(p), "model.weights.h5", 512 << 20, b"\0")
    case("zip_bomb_weights", p, "LimitError", ["model.weights.h5"])
    p = copy("zip_no_weights", CNN_K3)
    _write_zip(p, [(n, d) for n, d in _entries(p) if n != "model.weights.h5"])
    case("zip_no_weights", p, "InputFileError", ["model.weights.h5"])
    p = copy("zip_truncated", CNN_K3)
    open(p, "wb").write(open(CNN_K3, "rb").read()[:20000])
    case("zip_truncated", p, "InputFileError")

    # -- a file HDF5's C library (1.14.6) loops on forever, reading its global
    # heap: refused by the probe (another HDF5 may just fail to read it)
    loop = mutate_file(_fixture("conv", "conv2d_cf_groups_dilated.h5"), None, os.path.join(out_dir, "loop"),
                       [("structure", 3427142700), ("bytes", 2645855748)], env)
    case("hdf5_heap_loop", loop["src"], None)

    # -- JSON
    p = os.path.join(out_dir, "deep.json")
    open(p, "w").write("[" * 200000 + "]" * 200000)
    case("deep_json", p, "LimitError", ["deep", "max_json_depth"])
    p = os.path.join(out_dir, "reverse_10000.h5")
    with h5py.File(p, "w") as f:
        f.attrs["model_config"] = json.dumps(_reverse_chain(10000))
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.create_group("model_weights").attrs["layer_names"] = np.zeros((0,), "S1")
    case("reverse_10000", p, "ok")

    # -- not regular files
    case("fifo_model", env["fifo"], "InputFileError", ["not a regular file"])
    case("char_device", "/dev/zero", "InputFileError", ["not a regular file"])
    case("fifo_weights", JSON_PAIR[0], "InputFileError", ["not a regular file"], weights=env["fifo"])
    case("directory", out_dir, "InputFileError", ["directory"])

    # -- destinations
    case("dst_missing_folder", DENSE, "OutputError", ["does not exist"],
         dst=os.path.join(out_dir, "no", "such", "folder", "m.onnx"))
    # (the CLI's -o DIR writes DIR/<stem>.onnx: a documented use, not an error)
    case("dst_is_folder", DENSE, "OutputError", ["directory"], dst=out_dir, dst_exists=True, cli=False)
    case("dst_name_too_long", DENSE, "OutputError", ["too long"], dst=os.path.join(out_dir, "n" * 300 + ".onnx"))
    blocker = os.path.join(out_dir, "a_file")
    open(blocker, "w").write("x")
    case("dst_under_a_file", DENSE, "OutputError", ["not a directory"], dst=os.path.join(blocker, "m.onnx"))
    return cases


def _entries(path):
    return [(i.filename, d) for i, d in _zip_entries(path)]


def _rename(cfg, old, new):
    for lyr in cfg["config"]["layers"]:
        if lyr["name"] == old:
            lyr["name"] = new
            lyr["config"]["name"] = new
        for node in lyr.get("inbound_nodes", []):
            for e in node:
                if e[0] == old:
                    e[0] = new
    for key in ("output_layers", "input_layers"):
        for e in cfg["config"][key]:
            if e[0] == old:
                e[0] = new


def _nest(cfg, depth):
    """The model wrapped in `depth` Sequential layers."""
    inner = {"class_name": cfg["class_name"], "config": cfg["config"]}
    for i in range(depth):
        inner = {"class_name": "Sequential",
                 "config": {"name": f"nest{i}", "layers": [
                     {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 5], "name": f"in{i}"}},
                     dict(inner, name=f"nest{i - 1}" if i else "base")]}}
    cfg["class_name"], cfg["config"] = inner["class_name"], inner["config"]


def _swap_class(cfg, cls, key, val):
    """'hidden' replaced by a `cls` layer whose `key` is `val`."""
    lyr = _layer(cfg, "hidden")
    lyr["class_name"] = cls
    lyr["config"] = {"name": "hidden", key: val, "interpolation": "bilinear", "width": 4,
                     "dims": [1], "target_shape": [5]} | {key: val}
    _layer(cfg, "x")["config"]["batch_input_shape"] = [None, 4, 4, 6] if "2D" in cls or cls == "Resizing" \
        else [None, 6]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__.split("\n\n")[0])
        print("usage: python tests/make_hostile_files.py OUTDIR")
        return 2
    out = argv[0]
    os.makedirs(out, exist_ok=True)
    env = write_marker(os.path.join(out, "local"))
    cases = hand_made(out, env)
    with open(os.path.join(out, "cases.json"), "w") as fh:
        json.dump(cases, fh, indent=1)
    print(f"wrote {len(cases)} cases to {out} (cases.json lists them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
