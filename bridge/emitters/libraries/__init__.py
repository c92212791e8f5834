"""Emitters for the layers of third-party Keras libraries, one module per
library (imported by bridge/emitters/__init__.py, which registers them)."""
