"""Emitters for the layers of third-party Keras libraries, one module per library."""
from . import larq, qkeras, tfmot  # noqa: F401
