"""Emitters for third-party layer libraries, one module per library,
registered under the names those libraries register with Keras."""
from . import kcv, keras_hub  # noqa: F401
