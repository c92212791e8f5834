"""QKeras quantizers (qkeras/quantizers.py, QKeras 0.9) at inference, as formulas
over `arrays.Ops` so that one definition quantizes a kernel at conversion and
an activation in the graph.

A quantizer reaches the config in three forms: a serialized object
({"class_name": "quantized_bits", "config": {...}}), a string that QKeras
evaluates ("quantized_relu(4,0)", "binary", "quantized_bits(4,0,1,alpha='auto')"),
or a plain function name ("hard_sigmoid" is QKeras's own 0.5x + 0.5 one,
"binary_tanh", or a Keras activation such as "relu").

What inference computes, per quantizer (m = 2**bits without the sign bit,
m_i = 2**integer; tf.round rounds half to even):
- quantized_bits: m_i * clip(round(x * m / m_i), -m + symmetric (signed) or 0, m - 1) / m,
  times alpha; alpha 'auto' / 'auto_po2' fits a per-channel scale (a power of
  two for auto_po2) by least squares over all axes but the last.
- quantized_relu: the same on relu(x), with an optional negative slope or sigmoid.
- quantized_tanh / quantized_sigmoid / quantized_ulaw: a squashing function then steps.
- quantized_po2 / quantized_relu_po2: sign * 2**clip(round(log2 |x|), min_exp, max_exp).
- binary / ternary (and their stochastic_ variants, which are these at inference).
Most return x + (xq - x) (the straight-through form, kept op for op); a
qnoise_factor below 1 mixes in the unquantized value the same way.
bernoulli samples at inference too, so it is refused.
"""
from __future__ import annotations

from ...safety import check_count
from .arrays import EPSILON, LOG2

# Constructor parameters in order (positional arguments of the string form) and defaults.
SIGNATURES = {
    "quantized_bits": (("bits", 8), ("integer", 0), ("symmetric", 0), ("keep_negative", True),
                       ("alpha", None), ("use_stochastic_rounding", False), ("scale_axis", None),
                       ("qnoise_factor", 1.0), ("var_name", None), ("use_ste", True),
                       ("use_variables", False)),
    "quantized_hswish": (("bits", 8), ("integer", 0), ("symmetric", 0), ("alpha", None),
                         ("use_stochastic_rounding", False), ("scale_axis", None),
                         ("qnoise_factor", 1.0), ("var_name", None), ("use_ste", True),
                         ("use_variables", False), ("relu_shift", 3), ("relu_upper_bound", 6)),
    "quantized_relu": (("bits", 8), ("integer", 0), ("use_sigmoid", 0), ("negative_slope", 0.0),
                       ("use_stochastic_rounding", False), ("relu_upper_bound", None),
                       ("is_quantized_clip", True), ("qnoise_factor", 1.0), ("var_name", None),
                       ("use_ste", True), ("use_variables", False)),
    "quantized_tanh": (("bits", 8), ("use_stochastic_rounding", False), ("symmetric", False),
                       ("use_real_tanh", False)),
    "quantized_sigmoid": (("bits", 8), ("symmetric", False), ("use_real_sigmoid", False),
                          ("use_stochastic_rounding", False)),
    "quantized_ulaw": (("bits", 8), ("integer", 0), ("symmetric", 0), ("u", 255.0)),
    "quantized_po2": (("bits", 8), ("max_value", None), ("use_stochastic_rounding", False),
                      ("quadratic_approximation", False), ("log2_rounding", "rnd"),
                      ("qnoise_factor", 1.0), ("var_name", None), ("use_ste", True),
                      ("use_variables", False)),
    "quantized_relu_po2": (("bits", 8), ("max_value", None), ("negative_slope", 0),
                           ("use_stochastic_rounding", False), ("quadratic_approximation", False),
                           ("log2_rounding", "rnd"), ("qnoise_factor", 1.0), ("var_name", None),
                           ("use_ste", True), ("use_variables", False)),
    "binary": (("use_01", False), ("alpha", None), ("use_stochastic_rounding", False)),
    "stochastic_binary": (("alpha", None), ("temperature", 6.0), ("use_real_sigmoid", True)),
    "ternary": (("alpha", None), ("threshold", None), ("use_stochastic_rounding", False),
                ("number_of_unrolls", 5)),
    "stochastic_ternary": (("alpha", None), ("threshold", None), ("temperature", 8.0),
                           ("use_real_sigmoid", True), ("number_of_unrolls", 5)),
    "bernoulli": (("alpha", None), ("temperature", 6.0), ("use_real_sigmoid", True)),
}
# QKeras's own activation functions, found before Keras's by its string evaluation.
FUNCTIONS = ("hard_sigmoid", "smooth_sigmoid", "binary_sigmoid", "binary_tanh", "hard_tanh",
             "smooth_tanh")
# Quantizers whose alpha a kernel quantizer turns to 'auto_po2' when unset
# (_set_trainable_parameter, called by the layers on their weight quantizers).
_TRAINABLE_ALPHA = ("quantized_bits", "binary", "stochastic_binary", "ternary",
                    "stochastic_ternary", "bernoulli")


class QuantizerSpecError(ValueError):
    """A quantizer config this module cannot evaluate; the message says why."""


def _arg(s: str):
    """qkeras.safe_eval.GetArg: True/False, int, float, else a quoted string."""
    s = s.strip()
    if s in ("True", "False"):
        return s == "True"
    for cast in (int, float):
        try:
            return cast(s)
        except ValueError:
            pass
    if s == "None":
        return None
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    return s


def parse(spec):
    """(name, parameters) of a quantizer, or (function name, None); None for no quantizer."""
    if spec is None:
        return None
    if isinstance(spec, dict):
        name = spec.get("class_name")
        cfg = spec.get("config")
        if name in ("function", "builtins.function") and isinstance(cfg, str):
            return cfg, None           # a Keras 3 serialized function
        if not isinstance(name, str):
            raise QuantizerSpecError(f"quantizer config {spec!r} has no class_name")
        args, kwargs = [], dict(cfg or {})
    elif isinstance(spec, str):
        head, _, rest = spec.partition("(")
        name = head.strip()
        if not rest:
            return (name, dict(SIGNATURES[name])) if name in SIGNATURES else (name, None)
        body = rest.rsplit(")", 1)[0]
        args, kwargs = [], {}
        for part in filter(None, (p.strip() for p in body.split(","))):
            if "=" in part:
                k, _, v = part.partition("=")
                kwargs[k.strip()] = _arg(v)
            elif kwargs:
                raise QuantizerSpecError(f"quantizer string {spec!r} has a positional argument "
                                         f"after a keyword one")
            else:
                args.append(_arg(part))
    else:
        raise QuantizerSpecError(f"quantizer {spec!r} is neither a config nor a string")
    if name not in SIGNATURES:
        if isinstance(spec, str) and not args and not kwargs:
            return name, None
        raise QuantizerSpecError(f"quantizer '{name}' is not a QKeras quantizer this converter "
                                 f"knows (known: {', '.join(sorted(SIGNATURES))})")
    sig = SIGNATURES[name]
    if len(args) > len(sig):
        raise QuantizerSpecError(f"quantizer {spec!r} has {len(args)} positional arguments; "
                                 f"{name} takes at most {len(sig)}")
    params = dict(sig)
    params.update(zip((k for k, _ in sig), args))
    params.update({k: v for k, v in kwargs.items() if k in params or k == "integer"})
    return name, params


def for_weights(parsed):
    """A weight quantizer as the QKeras layers use it: alpha None becomes
    'auto_po2' (and quantized_bits symmetric)."""
    if parsed is None or parsed[1] is None:
        return parsed
    name, p = parsed
    if name in _TRAINABLE_ALPHA and p.get("alpha") is None:
        p = dict(p, alpha="auto_po2")
        if name == "quantized_bits":
            p["symmetric"] = True
    return name, p


def problems(parsed) -> list:
    """Why a parsed quantizer cannot be exported; [] when it can."""
    if parsed is None:
        return []
    name, p = parsed
    if p is None:
        return []
    if name == "bernoulli":
        return ["the bernoulli quantizer samples random numbers at inference too; its output is "
                "not reproducible"]
    if isinstance(p.get("integer"), (list, tuple)):
        return [f"{name} with per-channel integer bits {p['integer']} is not supported"]
    alpha = p.get("alpha")
    if isinstance(alpha, str) and alpha not in ("auto", "auto_po2"):
        return [f"{name} alpha '{alpha}' is not one QKeras knows ('auto', 'auto_po2')"]
    if isinstance(alpha, (list, tuple)):
        return [f"{name} with a per-channel alpha list is not supported"]
    if name in ("quantized_po2", "quantized_relu_po2") and p.get("log2_rounding") not in ("rnd", "floor"):
        return [f"{name} log2_rounding '{p.get('log2_rounding')}' is not one QKeras knows"]
    return []


# -- the formulas ---------------------------------------------------------------

def _ste(o, x, xq, p):
    """x + stop_gradient(qnoise * (-x + xq)) (use_ste) or (1 - qnoise) x + qnoise xq."""
    q = float(p.get("qnoise_factor", 1.0))
    if p.get("use_ste", True):
        d = o.add(o.neg(x), xq)
        return o.add(x, d if q == 1.0 else o.mul(q, d))
    return o.add(o.mul(1.0 - q, x), o.mul(q, xq))


def _channel_axes(o):
    return list(range(o.rank - 1)) if o.rank > 1 else [0]


def _least_squares_scale(o, alpha, x, q):
    """quantizers._get_scale: per-channel sum(x q) / sum(q q), optionally a power of two."""
    if o.rank > 1:
        axes = list(range(o.rank - 1))
        qx = o.reduce_mean(o.mul(x, q), axes)
        qq = o.reduce_mean(o.mul(q, q), axes)
    else:
        qx, qq = o.mul(x, q), o.mul(q, q)
    scale = o.div(qx, o.add(qq, EPSILON))
    if alpha == "auto_po2":
        scale = _po2(o, scale)
    return scale


def _po2(o, s):
    return o.pow2(o.round(o.div(o.log(o.add(s, EPSILON)), LOG2)))


def _hard_sigmoid(o, x):
    return o.clip(o.add(o.mul(0.5, x), 0.5), 0.0, 1.0)


def _smooth_sigmoid(o, x):
    return o.clip(o.add(o.mul(0.1875, x), 0.5), 0.0, 1.0)


def _round_through(o, x):
    return o.add(x, o.add(o.neg(x), o.round(x)))


def function(o, name, x):
    """QKeras's own activation functions (quantizers.py, 'hard' internal sigmoid)."""
    if name == "hard_sigmoid":
        return _hard_sigmoid(o, x)
    if name == "smooth_sigmoid":
        return _smooth_sigmoid(o, x)
    if name == "binary_sigmoid":
        return _round_through(o, _hard_sigmoid(o, x))
    if name == "binary_tanh":
        return o.sub(o.mul(2.0, _round_through(o, _hard_sigmoid(o, x))), 1.0)
    if name == "hard_tanh":
        return o.sub(o.mul(2.0, _hard_sigmoid(o, x)), 1.0)
    if name == "smooth_tanh":
        return o.sub(o.mul(2.0, _smooth_sigmoid(o, x)), 1.0)
    raise KeyError(name)


def quantized_bits(o, x, p):
    bits, integer, keep_negative = int(p["bits"]), p["integer"], bool(p["keep_negative"])
    symmetric, alpha = p["symmetric"], p["alpha"]
    unsigned_bits = bits - keep_negative
    m = float(2 ** unsigned_bits)
    m_i = float(2.0 ** integer)
    if isinstance(alpha, str):
        x = o.div(x, m_i)
        levels = float((2 ** (bits - 1) - 1) * 2)
        scale = o.div(o.mul(o.reduce_max(o.abs(x), _channel_axes(o)), 2.0), levels)
        rounds = 5 if alpha == "auto_po2" else 1
        if alpha == "auto_po2":
            scale = _po2(o, scale)
        for i in range(rounds):
            v = o.floor(o.add(o.div(o.abs(x), scale), 0.5))
            z = o.mul(o.sign(x), o.where(o.lt(v, levels / 2), v, levels / 2))
            if alpha == "auto_po2":
                scale = _least_squares_scale(o, alpha, x, z)
        scale = o.mul(scale, m)
        x = o.mul(m_i, x)
        xq = o.mul(scale, o.div(o.mul(m_i, z), m))
        return _ste(o, x, xq, p)
    if unsigned_bits > 0:
        lo = int(keep_negative) * (-m + int(symmetric))
        xq = o.quantize_step(x, m_i / m, lo, m - 1)
    else:
        xq = o.sign(x)
        xq = o.add(xq, o.sub(1.0, o.abs(xq)))
        if not keep_negative:
            xq = o.div(o.add(xq, 1.0), 2.0)
    if alpha is not None:
        xq = o.mul(float(alpha), xq)
    return _ste(o, x, xq, p)


def quantized_hswish(o, x, p):
    shift, bound = float(p["relu_shift"]), float(p["relu_upper_bound"])
    shifted = o.add(x, shift)
    relu_x = o.where(o.le(shifted, bound), o.relu(shifted), bound)
    return quantized_bits(o, o.div(o.mul(x, relu_x), bound), dict(p, keep_negative=True))


def quantized_relu(o, x, p):
    slope = float(p["negative_slope"])
    bits = int(p["bits"]) - (slope != 0.0)
    m, m_i = float(2 ** bits), float(2.0 ** p["integer"])
    m_f = float(2.0 ** (p["integer"] - bits))
    relu = o.relu(x) if slope == 0.0 else o.sub(o.relu(x), o.mul(slope, o.relu(o.neg(x))))
    upper = p.get("relu_upper_bound")
    if p.get("is_quantized_clip", True):
        x_u = o.where(o.le(x, m_i - m_f), relu, m_i - m_f)
    elif upper is not None:
        x_u = o.where(o.le(x, float(upper)), relu, float(upper))
    else:
        x_u = relu
    if p["use_sigmoid"]:
        s = o.mul(_hard_sigmoid(o, o.div(x, m_i)), m)
        xq = o.mul(m_i, o.clip(o.sub(o.mul(2.0, o.div(o.round(s), m)), 1.0), 0.0, 1.0 - 1.0 / m))
        if slope > 0:
            neg = o.clip(o.sub(o.mul(2.0, o.mul(o.round(o.mul(s, slope)), 1.0 / (slope * m))), 1.0),
                         -1.0, 0.0)
            xq = o.add(xq, o.mul(m_i * slope, neg))
    else:
        xq = o.quantize_step(x, m_i / m, 0, m - 1)
        if slope > 0:
            s = o.div(o.mul(x, m), m_i)
            neg = o.clip(o.mul(o.round(o.mul(s, slope)), 1.0 / (slope * m)), -1.0, 0.0)
            xq = o.add(xq, o.mul(m_i * slope, neg))
    if upper and not p.get("is_quantized_clip", True):
        xq = o.where(o.le(xq, float(upper)), xq, float(upper))
    return _ste(o, x_u, xq, p)


def quantized_tanh(o, x, p):
    m = float(2 ** (int(p["bits"]) - 1))
    t = o.tanh(x) if p["use_real_tanh"] else o.sub(o.mul(2.0, _hard_sigmoid(o, x)), 1.0)
    return o.quantize_step(t, 1.0 / m, -m + int(bool(p["symmetric"])), m - 1)


def quantized_sigmoid(o, x, p):
    m = float(2 ** int(p["bits"]))
    s = o.sigmoid(x) if p["use_real_sigmoid"] else _hard_sigmoid(o, x)
    return o.quantize_step(s, 1.0 / m, int(bool(p["symmetric"])), m - 1)


def quantized_ulaw(o, x, p):
    m = float(2 ** (int(p["bits"]) - 1))
    m_i = float(2.0 ** p["integer"])
    u = float(p["u"])
    s = o.mul(_hard_sigmoid(o, o.div(x, m_i)), m)
    rp = o.sub(o.mul(2.0, o.div(_round_through(o, s), m)), 1.0)
    law = o.div(o.mul(o.sign(rp), o.log(o.add(1.0, o.mul(u, o.abs(rp))))), o.log(1.0 + u))
    return o.mul(m_i, o.clip(law, -1.0 + float(p["symmetric"]) / m, 1.0 - 1.0 / m))


def _exponents(p, non_sign_bits):
    mv = p["max_value"]
    need_sign = 0 if (mv is not None and mv <= 1) else 1
    bits = non_sign_bits - need_sign
    lo, hi = -2 ** bits, 2 ** bits - 1
    if p["quadratic_approximation"]:
        hi = 2 * (hi // 2)
    return lo, hi


def _clip_power_of_two(o, x_abs, lo, hi, p):
    mv = p["max_value"]
    x_filter = o.where(o.lt(x_abs, EPSILON), EPSILON, x_abs)
    if mv is not None:
        x_filter = o.where(o.ge(x_filter, float(mv)), float(mv), x_filter)
    factor = 2.0 if p["quadratic_approximation"] else 1.0
    x_in = o.sqrt(x_filter) if p["quadratic_approximation"] else x_filter
    log2 = o.div(o.log(x_in), LOG2)
    log2 = o.floor(log2) if p["log2_rounding"] == "floor" else _round_through(o, log2)
    clipped = o.mul(factor, o.clip(log2, lo, hi))
    return o.where(o.lt(x_abs, EPSILON), float(lo), clipped)


def quantized_po2(o, x, p):
    lo, hi = _exponents(p, int(p["bits"]) - 1)
    sign = o.sign(x)
    sign = o.add(sign, o.sub(1.0, o.abs(sign)))
    xq = o.mul(sign, o.pow2(_clip_power_of_two(o, o.abs(x), lo, hi, p)))
    return _ste(o, x, xq, p)


def quantized_relu_po2(o, x, p):
    lo, hi = _exponents(p, int(p["bits"]))
    slope, mv = float(p["negative_slope"]), p["max_value"]
    relu = o.relu(x) if slope == 0.0 else o.sub(o.relu(x), o.mul(slope, o.relu(o.neg(x))))
    x_u = relu if mv is None else o.where(o.le(x, float(mv)), relu, float(mv))
    pos = o.pow2(_clip_power_of_two(o, o.relu(x), lo, hi, p))
    if slope == 0.0:
        xq = pos
    else:
        neg = o.pow2(_clip_power_of_two(o, o.mul(o.relu(o.neg(x)), slope), lo, hi, p))
        xq = o.where(o.ge(x, 0.0), pos, o.neg(neg))
    return _ste(o, x_u, xq, p)


def binary(o, x, p):
    alpha = p["alpha"]
    sign = o.sign(x)
    sign = o.add(sign, o.sub(1.0, o.abs(sign)))
    if p.get("use_01"):
        sign = o.div(o.add(sign, 1.0), 2.0)
    if alpha is None:
        x = o.tanh(x)
    if isinstance(alpha, str):
        scale = _least_squares_scale(o, alpha, x, sign)
    else:
        scale = 1.0 if alpha is None else float(alpha)
    return o.add(x, o.add(o.neg(x), o.mul(scale, sign)))


def ternary(o, x, p):
    alpha = p["alpha"]
    if isinstance(alpha, str):
        axes = list(range(o.rank)) if o.rank == 1 else list(range(o.rank - 1))
        scale = o.div(o.mul(2.0, o.reduce_max(o.abs(x), axes)), 3.0)
        if alpha == "auto_po2":
            scale = _po2(o, scale)
        check_count(int(p["number_of_unrolls"]), "ternary's number_of_unrolls")
        for _ in range(int(p["number_of_unrolls"])):
            v = o.mul(scale, _round_through(o, o.div(x, scale)))
            q = o.mul(o.to_float(o.ge(o.abs(v), o.div(scale, 2.0))), o.sign(x))
            scale = _least_squares_scale(o, alpha, x, q)
    else:
        scale = 1.0 if alpha is None else float(alpha)
        thres = 0.33 if p["threshold"] is None else float(p["threshold"])
        q = o.mul(o.to_float(o.ge(o.abs(x), thres)), o.sign(x))
    if alpha is None:
        x = o.tanh(x)
    return o.add(x, o.add(o.neg(x), o.mul(scale, q)))


FORMULAS = {
    "quantized_bits": quantized_bits, "quantized_hswish": quantized_hswish,
    "quantized_relu": quantized_relu, "quantized_tanh": quantized_tanh,
    "quantized_sigmoid": quantized_sigmoid, "quantized_ulaw": quantized_ulaw,
    "quantized_po2": quantized_po2, "quantized_relu_po2": quantized_relu_po2,
    "binary": binary, "ternary": ternary,
    # at inference (learning phase 0) these are the deterministic quantizers
    "stochastic_binary": lambda o, x, p: binary(o, x, {"alpha": p["alpha"]}),
    "stochastic_ternary": lambda o, x, p: ternary(o, x, dict(p, threshold=p["threshold"])),
}


def apply(o, parsed, x):
    """The quantizer (or QKeras function) `parsed` applied to x."""
    name, p = parsed
    if p is None:
        return function(o, name, x)
    return FORMULAS[name](o, x, p)
