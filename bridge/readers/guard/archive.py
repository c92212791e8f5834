"""Zip archives (.keras) behind the guard: entries streamed with a cap on
what they inflate to, CRC checked, HDF5 entries opened in place or from a
private temporary file, .npz entries read header first."""
from __future__ import annotations

import io
import os
import tempfile
import zipfile

import numpy as np

from ... import safety
from ...errors import InputFileError, LimitError, WeightsError, short
from .hdf5 import H5Group, kind_of, open_h5
from .text import CHUNK, check_regular, reason as _reason

# -- zip ------------------------------------------------------------------------------

_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


class Archive:
    """A zip archive (a .keras file) read entry by entry within the limits."""

    def __init__(self, path: str):
        self.path = path
        self.size = check_regular(path)
        try:
            self.zf = zipfile.ZipFile(path)
            self.infos = {i.filename: i for i in self.zf.infolist()}
        except Exception as e:  # noqa: BLE001 -- BadZipFile, OSError, ValueError, ...
            raise InputFileError(f"{path}: not a readable .keras archive ({_reason(e)}); the file is "
                                 f"truncated or damaged: re-save the model with "
                                 f"model.save('model.keras')") from None
        self._temp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        self.zf.close()
        if self._temp is not None:
            self._temp.cleanup()
            self._temp = None

    def names(self) -> set:
        return set(self.infos)

    def _info(self, name: str, cap: int, cap_name: str):
        info = self.infos[name]
        what = f"{self.path}: entry '{short(name)}'"
        if info.flag_bits & 0x1:
            raise InputFileError(f"{what} is encrypted; Keras never encrypts its archives: re-save "
                                 f"the model")
        if info.compress_type not in _METHODS:
            raise InputFileError(f"{what} uses zip compression method {info.compress_type}, which "
                                 f"this reader does not read and Keras never writes; re-save the model")
        if info.file_size > cap:
            raise safety.refuse(f"{what} declares {safety.size(info.file_size)}", cap_name)
        safety.check_inflation(info.file_size, info.compress_size, what)
        return info

    def _chunks(self, name: str, cap: int, cap_name: str):
        """The entry's bytes, inflated in chunks, at most `cap` of them, CRC
        checked (zipfile's reader stops at the declared size and checks the
        CRC at the end)."""
        info = self._info(name, cap, cap_name)
        total = 0
        try:
            with self.zf.open(info) as fh:
                while True:
                    chunk = fh.read(CHUNK)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > cap:
                        raise safety.refuse(f"{self.path}: entry '{short(name)}' inflates past "
                                            f"{safety.size(cap)}", cap_name)
                    yield chunk
        except LimitError:
            raise
        except Exception as e:  # noqa: BLE001 -- BadZipFile (CRC), zlib.error, EOFError, ...
            raise InputFileError(f"{self.path}: entry '{short(name)}' cannot be read ({_reason(e)}); "
                                 f"the archive is truncated or damaged: re-save the model") from None

    def read(self, name: str, cap_name: str = "max_config_bytes") -> bytes:
        cap = getattr(safety.current(), cap_name)
        return b"".join(self._chunks(name, cap, cap_name))

    def open_h5(self, name: str) -> H5Group:
        """An HDF5 entry: read in place when stored, else inflated into a
        private temporary file (never into memory)."""
        lim = safety.current()
        cap = lim.max_weight_bytes + (64 << 20)      # the weights and HDF5's own structures
        label = f"{self.path} ({name})"
        info = self._info(name, cap, "max_weight_bytes")
        if info.compress_type == zipfile.ZIP_STORED:
            for _ in self._chunks(name, cap, "max_weight_bytes"):
                pass                                  # the CRC, before any of it is used
            offset = self._data_offset(info)
            window = _Window(self.path, offset, info.file_size)
            try:
                g = open_h5(window, label, info.file_size, (self.path, offset, info.file_size))
            except BaseException:
                window.close()
                raise
            g._src.closing.append(window)
            return g
        if self._temp is None:
            self._temp = tempfile.TemporaryDirectory(prefix="bridge-")
        tmp = os.path.join(self._temp.name, f"entry{len(os.listdir(self._temp.name))}.h5")
        with open(tmp, "wb") as out:
            for chunk in self._chunks(name, cap, "max_weight_bytes"):
                out.write(chunk)
        size = os.path.getsize(tmp)
        g = open_h5(tmp, mappable=False)   # (a map would pin the temporary file on Windows)
        g._src.name, g._src.size = label, size
        return g

    def _data_offset(self, info) -> int:
        """Where a stored entry's bytes start (after its local header)."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(info.header_offset)
                head = fh.read(30)
            if len(head) < 30 or head[:4] != b"PK\x03\x04":
                raise ValueError("bad local header")
            n = int.from_bytes(head[26:28], "little") + int.from_bytes(head[28:30], "little")
            return info.header_offset + 30 + n
        except (OSError, ValueError) as e:
            raise InputFileError(f"{self.path}: entry '{short(info.filename)}' cannot be read "
                                 f"({_reason(e)}); the archive is damaged: re-save the model") from None

    def read_npz(self, name: str) -> dict:
        """A .npz entry (a zip of .npy arrays): every array's header is read
        and checked before its data; nothing is unpickled."""
        data = b"".join(self._chunks(name, safety.current().max_weight_bytes + (1 << 20),
                                     "max_weight_bytes"))
        out = {}
        what = f"{self.path} ({short(name)})"
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for info in z.infolist():
                    if not info.filename.endswith(".npy"):
                        continue
                    out[info.filename[:-4]] = _npy(z, info, what)
        except (LimitError, WeightsError):
            raise
        except Exception as e:  # noqa: BLE001
            raise InputFileError(f"{what}: cannot be read ({_reason(e)}); the archive is damaged: "
                                 f"re-save the model") from None
        return out


def _npy(z: zipfile.ZipFile, info, what: str) -> np.ndarray:
    if info.flag_bits & 0x1 or info.compress_type not in _METHODS:
        raise InputFileError(f"{what}: array '{short(info.filename)}' is encrypted or compressed in a "
                             f"way numpy never writes")
    safety.check_inflation(info.file_size, info.compress_size, f"{what}: array '{short(info.filename)}'")
    raw = z.read(info)
    fh = io.BytesIO(raw)
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    if dtype.kind not in "fiub" or dtype.hasobject:
        raise WeightsError(f"{what}: array '{short(info.filename)}' holds {kind_of(dtype)}, not numbers")
    n = int(np.prod(shape, dtype=object)) if shape else 1
    body = raw[fh.tell():]
    if n * dtype.itemsize != len(body):
        raise InputFileError(f"{what}: array '{short(info.filename)}' declares {n} values but holds "
                             f"{len(body)} bytes; the archive is damaged")
    a = np.frombuffer(body, dtype).reshape(shape, order="F" if fortran else "C")
    return a.copy()


class _Window(io.RawIOBase):
    """Read-only view of `size` bytes of a file from `offset`: a stored
    zip entry, opened by h5py in place."""

    def __init__(self, path: str, offset: int, size: int):
        super().__init__()
        self._fd = os.open(path, os.O_RDONLY)
        self._offset, self._size, self._pos = offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = max(0, min(len(b), self._size - self._pos))
        if n == 0:
            return 0
        data = os.pread(self._fd, n, self._offset + self._pos)
        b[:len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, pos: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()

