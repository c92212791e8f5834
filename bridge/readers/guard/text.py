"""Paths and JSON text: only regular files are opened, JSON is measured
before it is parsed."""
from __future__ import annotations

import json
import os
import stat

import numpy as np

from ... import safety
from ...errors import ConfigError, InputFileError, short

# -- paths ---------------------------------------------------------------------------


def check_regular(path: str, what: str = "model file") -> int:
    """The size of the regular file at `path`; anything else is refused
    before it is opened."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file; check the path") from None
    except OSError as e:
        raise InputFileError(f"{path}: cannot be read ({e.strerror}); check the path and its "
                             f"permissions") from None
    if stat.S_ISDIR(st.st_mode):
        if os.path.exists(os.path.join(path, "saved_model.pb")):
            raise InputFileError(f"{path}: this is a TensorFlow SavedModel directory, which is not a "
                                 f"Keras file; load it in Keras and re-save it with "
                                 f"model.save('model.h5') or model.save('model.keras')")
        raise InputFileError(f"{path}: is a directory; pass a Keras {what} (.h5, .keras)")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else
                "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else
                "a socket" if stat.S_ISSOCK(st.st_mode) else "a special file")
        raise InputFileError(f"{path}: is {kind}, not a regular file; pass the Keras {what} itself")
    return st.st_size


def read_head(path: str, n: int = 8) -> bytes:
    """The first bytes of a regular file (checked first), for telling formats apart."""
    check_regular(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):   # replaced since the check
                raise InputFileError(f"{path}: is not a regular file; pass the Keras model file itself")
            return os.pread(fd, n, 0)
        finally:
            os.close(fd)
    except OSError as e:
        raise InputFileError(f"{path}: cannot be read ({e.strerror}); check its permissions") from None


# -- JSON ----------------------------------------------------------------------------

CHUNK = 1 << 20


def json_shape(data: bytes) -> tuple:
    """(deepest nesting, number of lists and objects) of JSON text, counted
    outside strings, in linear time and bounded memory (numpy, by chunks)."""
    depth = deepest = items = 0
    in_string = False
    run = 0                      # backslashes ending the previous chunk
    for start in range(0, len(data), CHUNK):
        c = np.frombuffer(data, np.uint8, count=min(CHUNK, len(data) - start), offset=start)
        idx = np.arange(len(c))
        bs = c == 92
        last_plain = np.maximum.accumulate(np.where(bs, -1, idx))
        runs = idx - last_plain                          # backslashes ending at i (0: none)
        runs = np.where(last_plain < 0, runs + run, runs)   # (continuing the previous chunk's)
        before = np.empty(len(c), np.int64)
        before[0] = run
        before[1:] = runs[:-1]
        quote = (c == 34) & (before % 2 == 0)
        count = np.cumsum(quote) + in_string
        outside = (count % 2 == 0) & ~quote
        opens = outside & ((c == 91) | (c == 123))
        closes = outside & ((c == 93) | (c == 125))
        level = np.cumsum(opens.astype(np.int64) - closes) + depth
        if len(level):
            deepest = max(deepest, int(level.max()))
            depth = int(level[-1])
        items += int(opens.sum())
        in_string = bool(count[-1] % 2)
        run = int(runs[-1])
    return deepest, items


def load_json(data, source: str, what: str):
    """Parse JSON text (bytes or str) from the file, its size, depth and
    item count checked first."""
    lim = safety.current()
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if len(data) > lim.max_config_bytes:
        raise safety.refuse(f"{source}: {what} is {safety.size(len(data))}", "max_config_bytes")
    deepest, items = json_shape(data)
    if deepest > lim.max_json_depth:
        raise safety.refuse(f"{source}: {what} nests {deepest} levels deep", "max_json_depth")
    if items > lim.max_json_items:
        raise safety.refuse(f"{source}: {what} holds {items} lists and objects", "max_json_items")
    try:
        text = data.decode("utf-8")
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ConfigError(f"{source}: {what} is not valid JSON ({short(e, 200)}); the file is "
                          f"damaged: re-save the model") from None


def reason(e: Exception) -> str:
    """An exception from a library, shortened for a message."""
    text = str(e).split("(")[0].strip().rstrip(",") if str(e) else ""
    return short(text or type(e).__name__, 160)
