"""Where a model file's bytes enter the converter. Every reader goes through
here, so that whatever a file holds, reading it ends in the IR or in a
BridgeError, after a bounded amount of work and memory:

- paths: only regular files are opened (a FIFO would block, a device never
  end); the check comes before the open;
- JSON: nesting depth and the number of lists and objects are counted on
  the text, before Python's parser builds (or recurses into) anything;
- HDF5 (`open_h5`): groups, datasets and attributes are reached through
  wrappers that never follow a path the file names: external links,
  external storage and virtual datasets are refused, soft links are
  resolved inside the file (and refused when they leave it or loop); a
  dataset's size is checked against the bytes that store it, the file's
  size and the model's weight budget before it is read; h5py's own
  exceptions become InputFileError;
- zip (`Archive`): entries are read streaming, with a cap on what they may
  inflate to (never trusting the header's sizes), CRC checked; an HDF5
  entry is opened in place when stored, else inflated into a private
  temporary file.

The limits are bridge.safety's (raisable by the user).
"""
from __future__ import annotations

from .archive import Archive
from .hdf5 import H5Dataset, H5Group, open_h5
from .text import check_regular, json_shape, load_json, read_head

__all__ = ["Archive", "H5Dataset", "H5Group", "open_h5", "check_regular", "json_shape", "load_json",
           "read_head"]
