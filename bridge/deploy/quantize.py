"""Post-training int8 quantization of an exported model, by ONNX Runtime's
own tools (onnxruntime.quantization); nothing here quantizes by hand.

- No calibration data: quantize_dynamic. Weights are int8; activations are
  quantized at run time per tensor (DynamicQuantizeLinear -> MatMulInteger /
  ConvInteger). The usual choice for Dense-, RNN- and attention-heavy models.
- A calibration .npz: quantize_static in ORT's default QDQ format
  (QuantizeLinear / DequantizeLinear around each op, int8 activations and
  weights), activation ranges from ORT's MinMax calibrator run over the
  arrays. The usual choice for convolutional networks.

Weights are quantized per output channel (ORT's per_channel) unless asked
otherwise. As ORT recommends, the model first goes through its
quant_pre_process (ONNX Runtime's basic graph optimizations, e.g. folding,
then ONNX shape inference); its symbolic shape inference is skipped: every
value of an exported model already has a shape from ONNX's own inference
(the exporter checks it), and it would need sympy for nothing.

The result's parity report compares it with Keras's outputs (a reference
.npz given or found beside the model) or else with the float32 model's own
outputs on the calibration inputs (or on random inputs), at the int8
tolerance (validate.DEFAULT_RTOLS).
"""
from __future__ import annotations

import contextlib
import logging
import os
import tempfile

import numpy as np

from ..dtypes import PRECISION_KEY
from ..errors import DependencyError, InputFileError, OptionError
from ..validate import (DEFAULT_RTOLS, ParityReport, compare, find_reference_beside,
                        load_inputs, load_reference, match_arrays, precision_of, random_inputs)

CALIBRATION_BATCH = 8     # samples per calibration run: bounds the calibrator's memory


def _ort_quantization():
    try:
        from onnxruntime import quantization
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as e:
        raise DependencyError(f"bridge quantize needs onnxruntime.quantization, which does not "
                              f"import here ({e}); pip install 'onnxruntime[quantization]'") from None
    return quantization, quant_pre_process


def quantize(model, dst, *, calibration=None, reference=None, per_channel: bool = True,
             rtol: float | None = None, atol: float = 0.0, provider: str = "cpu") -> ParityReport:
    """Quantize the float32 ONNX file `model` to int8 at `dst`; return the
    parity report of the result.

    `calibration`: a .npz of model inputs ('input:<name>' / 'input_0'.. or
    arrays named after the inputs) for static quantization; None quantizes
    dynamically. `reference`: a Keras reference (.npz or
    *_inputs_and_outputs.h5) to report against; None looks beside `model`.
    """
    import onnx
    from ..convert import write
    from ..runtime import session

    q, quant_pre_process = _ort_quantization()
    model, dst = os.fspath(model), os.fspath(dst)
    if not os.path.isfile(model):
        raise InputFileError(f"{model}: no such file; pass an ONNX file written by 'bridge convert'")
    metas = session(model, "cpu").get_inputs()   # a file onnxruntime cannot load fails here
    precision = precision_of(model)
    if precision != "fp32":
        raise OptionError(f"{model}: the model is already {precision}; quantize the float32 export "
                          f"(bridge convert without --precision)")
    cal = _calibration(calibration, metas) if calibration is not None else None

    with tempfile.TemporaryDirectory(prefix="bridge-quantize-") as tmp, _quiet_root_logger():
        pre, out = os.path.join(tmp, "pre.onnx"), os.path.join(tmp, "int8.onnx")
        quant_pre_process(model, pre, skip_symbolic_shape=True)
        if cal is None:
            q.quantize_dynamic(pre, out, per_channel=per_channel)
        else:
            q.quantize_static(pre, out, _reader(q, cal), per_channel=per_channel)
        result = onnx.load(out)
    result.metadata_props.add(key=PRECISION_KEY, value="int8")
    data = result.SerializeToString()
    onnx.checker.check_model(data, full_check=True)
    write(data, dst)
    return parity(model, dst, reference=reference, inputs=cal,
                  rtol=DEFAULT_RTOLS["int8"] if rtol is None else rtol, atol=atol, provider=provider)


def parity(float_model, quantized, *, reference=None, inputs=None, rtol: float, atol: float,
           provider: str = "cpu") -> ParityReport:
    """Keras's outputs when a reference is given or beside the float model,
    else the float model's own outputs on `inputs` (or random ones)."""
    from ..runtime import run, session
    sess = session(quantized, "cpu")
    in_names = [m.name for m in sess.get_inputs()]
    out_names = [m.name for m in sess.get_outputs()]
    ref = reference if reference is not None else find_reference_beside(float_model)
    if ref is not None:
        ins, outs = load_reference(ref)
        label = os.fspath(ref)
        ins = match_arrays(ins, in_names, "input", label)
        outs = match_arrays(outs, out_names, "output", label)
    else:
        if inputs is None:
            inputs = random_inputs(sess.get_inputs())
            label = f"the float32 model on {len(next(iter(inputs.values())))} random inputs"
        else:
            label = "the float32 model on the calibration inputs"
        ins = inputs
        outs = run(float_model, ins, provider="cpu").outputs
    result = run(quantized, ins, provider=provider)
    report = compare(result.outputs, outs, rtol=rtol, atol=atol)
    report.provider, report.reference = result.provider, label
    if ref is None:
        for o in report.outputs:
            o.against = "float32"
    return report


@contextlib.contextmanager
def _quiet_root_logger():
    """ORT's quantizer logs to the root logger, e.g. a warning for every bool
    tensor it leaves alone; keep those out of the report."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _calibration(path, metas) -> dict:
    from ..runtime import numpy_dtype_of
    label = os.fspath(path)
    arrays = match_arrays(load_inputs(path), [m.name for m in metas], "input", label)
    out = {}
    for m in metas:
        a = np.asarray(arrays[m.name])
        if a.ndim != len(m.shape):
            raise OptionError(f"{label}: calibration input {m.name!r} has shape {a.shape}; the "
                              f"model takes rank {len(m.shape)} (batch first), e.g. {m.shape}")
        out[m.name] = a.astype(numpy_dtype_of(m.type))
    sizes = {len(a) for a in out.values()}
    if len(sizes) != 1 or 0 in sizes:
        raise OptionError(f"{label}: calibration inputs need one common, non-zero batch size; got "
                          f"{ {k: len(a) for k, a in out.items()} }")
    return out


def _reader(q, arrays: dict):
    """ORT's CalibrationDataReader over the arrays, CALIBRATION_BATCH samples a call."""
    n = len(next(iter(arrays.values())))

    class NpzReader(q.CalibrationDataReader):
        def __init__(self):
            self._starts = iter(range(0, n, CALIBRATION_BATCH))

        def get_next(self):
            start = next(self._starts, None)
            if start is None:
                return None
            return {k: a[start:start + CALIBRATION_BATCH] for k, a in arrays.items()}

        def rewind(self):
            self._starts = iter(range(0, n, CALIBRATION_BATCH))

    return NpzReader()
