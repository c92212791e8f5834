"""A Triton Inference Server model repository for an exported model:

    REPO/NAME/config.pbtxt
    REPO/NAME/1/model.onnx

config.pbtxt is Triton's ModelConfig in protobuf text format, written from
the graph: platform "onnxruntime_onnx", each input and output with its name,
Triton data type and dims. With max_batch_size > 0 Triton adds the batch
dimension itself, so dims leave it out (the exported batch dimension is
always dynamic) and dynamic_batching lets the server gather requests into
batches; with 0 the dims are the full shapes and the server never batches.
Dynamic dimensions other than the batch are -1. The text is written here, not
through tritonclient's protobuf classes, so that serving needs no extra
package; the tests parse it with Triton's own ModelConfig schema.
"""
from __future__ import annotations

import os

import onnx
from onnx import TensorProto

from ..errors import OptionError

DEFAULT_MAX_BATCH = 8
VERSION = "1"

# model_config.proto's DataType names
TRITON_TYPES = {
    TensorProto.BOOL: "TYPE_BOOL", TensorProto.UINT8: "TYPE_UINT8", TensorProto.UINT16: "TYPE_UINT16",
    TensorProto.UINT32: "TYPE_UINT32", TensorProto.UINT64: "TYPE_UINT64", TensorProto.INT8: "TYPE_INT8",
    TensorProto.INT16: "TYPE_INT16", TensorProto.INT32: "TYPE_INT32", TensorProto.INT64: "TYPE_INT64",
    TensorProto.FLOAT16: "TYPE_FP16", TensorProto.FLOAT: "TYPE_FP32", TensorProto.DOUBLE: "TYPE_FP64",
    TensorProto.STRING: "TYPE_STRING", TensorProto.BFLOAT16: "TYPE_BF16",
}


def model_config(proto: onnx.ModelProto, name: str, max_batch: int = DEFAULT_MAX_BATCH,
                 source: str = "") -> str:
    """config.pbtxt text for `proto` served as model `name`."""
    if max_batch < 0:
        raise OptionError(f"--max-batch {max_batch}: pass 0 (no batching) or a positive batch size")
    where = f"{source}: " if source else ""
    lines = [f"name: {_quote(name)}", 'platform: "onnxruntime_onnx"', f"max_batch_size: {max_batch}"]
    inits = {t.name for t in proto.graph.initializer}   # inputs that are weights (IR < 4)
    for section, values in (("input", proto.graph.input), ("output", proto.graph.output)):
        entries = []
        for v in values:
            if v.name in inits:
                continue
            t = v.type.tensor_type
            if t.elem_type not in TRITON_TYPES:
                raise OptionError(f"{where}{section} {v.name!r} has ONNX type "
                                  f"{TensorProto.DataType.Name(t.elem_type)}, which Triton has no "
                                  f"data type for")
            dims = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
            if max_batch > 0:
                if not dims or t.shape.dim[0].HasField("dim_value"):
                    raise OptionError(f"{where}{section} {v.name!r} has no dynamic batch dimension "
                                      f"(shape {dims}); Triton can only batch it with --max-batch 0")
                dims = dims[1:]
            entries.append(f"  {{\n    name: {_quote(v.name)}\n    data_type: {TRITON_TYPES[t.elem_type]}\n"
                           f"    dims: [ {', '.join(str(d) for d in dims)} ]\n  }}")
        lines.append(f"{section} [\n" + ",\n".join(entries) + "\n]")
    if max_batch > 0:
        lines.append("dynamic_batching { }")
    return "\n".join(lines) + "\n"


def write_repository(proto: onnx.ModelProto, repo, name: str, max_batch: int = DEFAULT_MAX_BATCH,
                     source: str = "") -> tuple:
    """Write REPO/NAME/1/model.onnx and REPO/NAME/config.pbtxt; return both paths."""
    from ..convert import write
    _check_name(name)
    config = model_config(proto, name, max_batch, source)
    folder = os.path.join(os.fspath(repo), name)
    os.makedirs(os.path.join(folder, VERSION), exist_ok=True)
    model_path = os.path.join(folder, VERSION, "model.onnx")
    config_path = os.path.join(folder, "config.pbtxt")
    write(proto.SerializeToString(), model_path)
    write(config.encode("utf-8"), config_path)
    return model_path, config_path


def to_triton(src, repo, *, name=None, max_batch: int = DEFAULT_MAX_BATCH, **convert_options) -> tuple:
    """Convert the Keras file `src` (to_onnx's options) into a Triton model
    repository entry REPO/NAME (NAME: the file's stem by default)."""
    from ..convert import to_onnx
    name = name or default_name(src)
    _check_name(name)
    if max_batch < 0:
        model_config(onnx.ModelProto(), name, max_batch)   # raises the OptionError
    proto = to_onnx(src, **convert_options)
    return write_repository(proto, repo, name, max_batch, source=os.fspath(src))


def default_name(src) -> str:
    return os.path.splitext(os.path.basename(os.fspath(src).rstrip("/\\")))[0]


def _check_name(name):
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise OptionError(f"Triton model name {name!r} is not a folder name; pass --name NAME "
                          f"without slashes")


def _quote(s: str) -> str:
    """A protobuf text-format string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
