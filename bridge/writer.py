"""Write an exported model: inline, or as model.onnx plus a weights file
beside it (ONNX's external data format), atomically.

The weights go from their numpy arrays straight to the file: the protobuf
framing around each initializer's raw bytes is written here (a TensorProto is
its header fields, then field 9, raw_data), so no serialized copy of the
model's weights is ever made. Everything else is ordinary protobuf
serialization.

External data is used when asked for, and always when the weights would pass
protobuf's 2 GiB limit for one message. The data file is `<model file>.data`
(the location recorded in each initializer is that file's name, relative to
the model, as the format asks).

Atomic: both files are written in a private folder beside the destination,
checked there, then renamed into place (data first, then model) while holding
a lock on the destination folder, so a failed write or check leaves nothing
behind and concurrent writers to one destination leave one writer's pair,
never a mix.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile

import numpy as np
from onnx import TensorProto, helper

from .destination import keep_mode

# Inline weights above this go to a data file (protobuf's limit is 2 GiB for
# the whole message; leave room for the graph).
INLINE_LIMIT = 2 ** 31 - 2 ** 26
_ALIGN = 4096   # offsets in the data file (lets runtimes map it)
# An inline model with more weights than this is checked through a stand-in
# (_stand_in) instead of by parsing the written file: the checker's time and
# memory then go to the graph, not to copying the weights (ConvNeXt-Tiny,
# 109 MB: 138 ms on the file, 4 ms through the stand-in).
CHECK_STAND_IN = 2 ** 24

_GRAPH_FIELD, _INITIALIZER_FIELD, _RAW_DATA_FIELD = 7, 5, 9


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _len_field(number: int, length: int) -> bytes:
    """The tag and length of a length-delimited field."""
    return _varint(number << 3 | 2) + _varint(length)


def _raw(array: np.ndarray) -> np.ndarray:
    """The array as ONNX stores raw data: little-endian (written in C order
    by _put, whatever the array's own strides)."""
    a = np.asarray(array)
    return a.astype(a.dtype.newbyteorder("<")) if a.dtype.byteorder == ">" else a


def weight_bytes(consts: dict) -> int:
    return sum(int(a.nbytes) for a in consts.values())


def tensor_header(name: str, array: np.ndarray) -> TensorProto:
    t = TensorProto(name=name, data_type=helper.np_dtype_to_tensor_dtype(array.dtype))
    t.dims.extend(array.shape)
    return t


def _inline_chunks(consts: dict):
    """(framing bytes, raw memoryview or None) per initializer."""
    from onnx import numpy_helper
    for name, a in consts.items():
        a = np.asarray(a)
        if a.dtype.kind not in "fiub":   # strings and objects: the ordinary way
            body = numpy_helper.from_array(a, name).SerializeToString()
            yield _len_field(_INITIALIZER_FIELD, len(body)) + body, None
            continue
        head = tensor_header(name, a).SerializeToString()
        raw = _raw(a)
        raw_field = _len_field(_RAW_DATA_FIELD, raw.nbytes)
        size = len(head) + len(raw_field) + raw.nbytes
        yield _len_field(_INITIALIZER_FIELD, size) + head + raw_field, raw


_SLICE = 1 << 26


def _put(fh, a: np.ndarray, progress) -> None:
    """Write an array's bytes in C order, a slice at a time: a contiguous
    array straight from its memory (memoryview slices copy nothing), any
    other (a transposed kernel the emitters left as a view) through small
    contiguous pieces, so no whole copy of it is ever made."""
    if a.flags.c_contiguous or a.ndim == 0:
        raw = memoryview(np.ascontiguousarray(a).reshape(-1)).cast("B")
        for i in range(0, raw.nbytes, _SLICE):
            fh.write(raw[i:i + _SLICE])
            progress.advance(min(_SLICE, raw.nbytes - i))
        return
    rows = max(1, _SLICE // max(1, a[0].nbytes))
    for i in range(0, a.shape[0], rows):
        piece = np.ascontiguousarray(a[i:i + rows])
        fh.write(memoryview(piece.reshape(-1)).cast("B"))
        progress.advance(piece.nbytes)


def _write_inline(fh, model, consts: dict, progress) -> None:
    graph = model.graph.SerializeToString()
    chunks = list(_inline_chunks(consts))
    graph_len = len(graph) + sum(len(h) + (r.nbytes if r is not None else 0) for h, r in chunks)
    rest = type(model)()
    rest.CopyFrom(model)
    rest.ClearField("graph")
    fh.write(rest.SerializeToString())
    fh.write(_len_field(_GRAPH_FIELD, graph_len))
    fh.write(graph)
    for head, raw in chunks:
        fh.write(head)
        if raw is not None:
            _put(fh, raw, progress)


def _external_initializers(consts: dict, location: str, put) -> tuple:
    """(TensorProtos for `consts`, the data's length): small or non-numeric
    ones inline, the rest as references into `location` at 4 KiB-aligned
    offsets, each array handed to put(raw array, offset) to be stored there."""
    from onnx import numpy_helper
    offset = 0
    tensors = []
    for name, a in consts.items():
        a = np.asarray(a)
        if a.dtype.kind not in "fiub" or a.nbytes < 1024:
            tensors.append(numpy_helper.from_array(a, name))
            continue
        offset += -offset % _ALIGN
        raw = _raw(a)
        put(raw, offset)
        t = tensor_header(name, a)
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", location), ("offset", str(offset)), ("length", str(raw.nbytes))):
            e = t.external_data.add()
            e.key, e.value = k, v
        tensors.append(t)
        offset += raw.nbytes
    return tensors, offset


def _write_external(fh_model, fh_data, model, consts: dict, location: str, progress) -> None:
    def put(raw, offset):
        fh_data.seek(offset)       # (an alignment gap is a hole, read as zeros)
        _put(fh_data, raw, progress)

    tensors, end = _external_initializers(consts, location, put)
    fh_data.truncate(end)
    del model.graph.initializer[:]
    model.graph.initializer.extend(tensors)
    fh_model.write(model.SerializeToString())


def _stand_in(model, consts: dict, folder: str) -> str:
    """The model as the checker needs it, for an inline model too big to
    parse twice over: the same graph and initializers, the large ones
    referring to a sparse file of the right length. The checker and shape
    inference read their types and shapes, never their bytes (the framing of
    the written file is this module's, tested in tests/test_writer.py), and
    parsing the real file with shape inference's copy of it would hold the
    weights twice."""
    os.mkdir(folder)
    path = os.path.join(folder, "model.onnx")
    tensors, end = _external_initializers(consts, "model.onnx.data", lambda raw, offset: None)
    with open(path + ".data", "wb") as fh:
        fh.truncate(end)
    copy = type(model)()
    copy.CopyFrom(model)
    copy.graph.initializer.extend(tensors)
    with open(path, "wb") as fh:
        fh.write(copy.SerializeToString())
    return path


def _give_back_memory() -> None:
    """Return freed heap to the system before the checker parses the whole
    file (a parse holds about twice the model): glibc keeps freed memory
    otherwise. Elsewhere, nothing to do."""
    import gc
    gc.collect()
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def data_path(dst: str) -> str:
    return dst + ".data"


@contextlib.contextmanager
def _folder_lock(folder: str):
    """Serialize the final renames of writers sharing a folder (POSIX)."""
    try:
        import fcntl
    except ImportError:     # Windows: renames are still atomic one by one
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)        # (releases the lock)


def save(model, consts: dict, dst, *, external=None, check=None, progress=None) -> bool:
    """Write `model` (its graph without initializers) with `consts` (name ->
    array) as its initializers to `dst`. external: True, False, or None for
    "when the weights need it". check(path), when given, runs on the written
    model before it takes dst's place; if it raises, nothing is left behind.
    `consts` is emptied once written (the caller hands the arrays over).
    Returns whether a data file was written (the initializers of `model`
    then hold the data file's references)."""
    from .progress import Silent
    progress = progress or Silent()
    size = weight_bytes(consts)
    progress.stage("writing weights", size)
    dst = os.path.abspath(os.fspath(dst))
    folder, name = os.path.split(dst)
    if external is None:
        external = size > INLINE_LIMIT
    # both files under their final names in a private folder beside dst: the
    # check sees the pair as it will be, and the moves out are renames (the
    # stand-in, when there is one, in a folder of its own beside them)
    work = tempfile.mkdtemp(prefix=".bridge-", dir=folder)
    try:
        os.mkdir(os.path.join(work, "out"))
        model_tmp = os.path.join(work, "out", name)
        checked = model_tmp
        if check is not None and not external and size > CHECK_STAND_IN:
            checked = _stand_in(model, consts, os.path.join(work, "check"))
        with open(model_tmp, "wb") as fm:
            if external:
                with open(data_path(model_tmp), "wb") as fd:
                    _write_external(fm, fd, model, consts, os.path.basename(data_path(dst)), progress)
            else:
                _write_inline(fm, model, consts, progress)
        consts.clear()    # written: the check below should not find them still in memory
        if size > 2 ** 28:
            _give_back_memory()
        if check is not None:
            progress.stage("checking the model")
            check(checked)
        keep_mode(model_tmp, dst)
        with _folder_lock(folder):
            if external:
                os.replace(data_path(model_tmp), data_path(dst))
            os.replace(model_tmp, dst)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return external
