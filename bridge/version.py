"""The package version, in a module of its own so that every stage can name
it without importing the package's public face (bridge/__init__.py)."""
__version__ = "0.1.0"
