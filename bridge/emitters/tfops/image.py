"""Images (NHWC): tf.image.resize and depth_to_space / space_to_depth.

Resizing reuses the Resizing layer's exact TensorFlow sampling weights
(emitters/resample.py, via preprocessing); ONNX's DepthToSpace (DCR mode)
and SpaceToDepth are TensorFlow's on a channels-first tensor.
"""
from __future__ import annotations

from onnx import TensorProto

from ...context import Tensor
from ..common.resample import resize_image
from .table import TABLE
from .values import cast, has_tensor, refuse

op = TABLE.register


@op("image_resize")
def image_resize(ctx, images, size, method="bilinear", preserve_aspect_ratio=False, antialias=False):
    if has_tensor(size) or preserve_aspect_ratio:
        refuse(ctx, "image.resize needs a constant size and preserve_aspect_ratio=False")
    method = str("bilinear" if method is None else method).lower().replace("resizemethod.", "")
    method = {"nearest_neighbor": "nearest"}.get(method, method)
    x = images
    if x.dtype != TensorProto.FLOAT:
        x = cast(ctx, x, TensorProto.FLOAT)
    antialias = bool(antialias) and method not in ("nearest", "area")
    h, w = int(size[0]), int(size[1])
    return resize_image(ctx, ctx.channels_first(x), h, w, method, ctx.layer, antialias=antialias)


def _depth_space(op_type):
    def depth_space(ctx, input, block_size, data_format="NHWC"):
        x = input
        if str("NHWC" if data_format is None else data_format) != "NHWC":
            refuse(ctx, f"{op_type} with data_format {data_format!r} is not supported")
        bs = int(block_size)
        xc = ctx.channels_first(x)
        kw = {"mode": "DCR"} if op_type == "DepthToSpace" else {}
        y = ctx.g.op(op_type, xc.name, blocksize=bs, **kw)
        b, hh, ww, ch = x.shape
        up = op_type == "DepthToSpace"
        shape = (b, None if hh is None else (hh * bs if up else hh // bs),
                 None if ww is None else (ww * bs if up else ww // bs),
                 None if ch is None else (ch // (bs * bs) if up else ch * bs * bs))
        return Tensor(name=y, shape=shape, perm=xc.perm, dtype=x.dtype)
    return depth_space


op("depth_to_space")(_depth_space("DepthToSpace"))
op("space_to_depth")(_depth_space("SpaceToDepth"))
