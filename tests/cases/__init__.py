"""Case tables: each family module lists Case objects. A case builds a small
Keras model from a `keras` module handed to it (tf-keras when fixtures are
made), so nothing here imports Keras.

tests/make_fixtures.py builds every case with real Keras, randomizes its
weights (well scaled), and saves tests/fixtures/<family>/<name>.h5 with the
inputs it fed and the outputs Keras computed in <name>.npz.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

FAMILIES = ["core", "activations", "conv", "locally_connected", "pooling", "reshaping",
            "normalization", "merging", "models", "recurrent"]
FAMILIES += ["norm_layers", "attention", "preprocessing", "tfops"]
# Made by make_fixtures.py but not converted by the built-in registry alone
# (they need an emitter the test registers first).
EXTRA_FAMILIES = ["custom"]


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable            # keras module -> keras.Model
    family: str = ""
    # Per input: "float" (standard normal) or ("int", high) for integer inputs.
    input_kinds: tuple = field(default=())
    rtol: float = 1e-5


def layer_case(name: str, make_layer: Callable, input_shape: tuple, **kw) -> Case:
    """A model of one layer: Input(input_shape) -> make_layer(keras)."""
    def build(keras):
        inp = keras.Input(shape=input_shape, name="x")
        return keras.Model(inp, make_layer(keras)(inp), name=name)
    return Case(name=name, build=build, **kw)


def chain_case(name: str, *makers: Callable, shape: tuple, **kw) -> Case:
    """A model of layers in a row: Input(shape) -> makers[0](keras) -> ..."""
    def build(keras):
        inp = keras.Input(shape=shape, name="x")
        h = inp
        for mk in makers:
            h = mk(keras)(h)
        return keras.Model(inp, h, name=name)
    return Case(name=name, build=build, **kw)


def all_cases(families=None) -> list:
    out = []
    for fam in families or FAMILIES:
        mod = importlib.import_module(f"tests.cases.{fam}")
        for c in mod.CASES:
            out.append(Case(**{**c.__dict__, "family": fam}))
    names = [c.name for c in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"duplicate case names: {sorted(dup)}")
    return out
