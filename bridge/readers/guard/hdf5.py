"""HDF5 behind the guard: links resolved one at a time inside the file,
datasets checked (storage, type, size) before they are read, h5py's own
exceptions turned into InputFileError."""
from __future__ import annotations

import os

import numpy as np

from ... import safety
from ...errors import InputFileError, WeightsError, short
from . import probe
from .text import check_regular, reason as _reason

# -- HDF5 ------------------------------------------------------------------------------

_FILTERS = {1, 2, 3, 4, 5, 6, 32000}    # deflate, shuffle, fletcher32, szip, nbit, scaleoffset, lzf


class H5Source:
    """One HDF5 file being read: its name for messages, its size, and the
    weight bytes read from it so far."""

    def __init__(self, name: str, size: int, where=None):
        self.name, self.size, self.read = name, size, 0
        self.closing = []        # what to close with the file (a zip entry's window)
        self.where = where       # (path, offset) of the HDF5 bytes on disk, to map weights from
        self._map = None

    def map(self, offset: int, shape, dtype, nbytes: int):
        """The bytes at `offset` of the HDF5 data as a copy-on-write map, or
        None when they are not all inside the file (mapping past its end
        would fault on first touch, not raise)."""
        if self.where is None or offset < 0 or offset + nbytes > self.size:
            return None
        if self._map is None:
            try:
                self._map = FileMap(*self.where)
            except OSError:
                self.where = None
                return None
            self.closing.append(self._map)
        return self._map.array(offset, shape, dtype)


class FileMap:
    """Where the weights of an HDF5 file live: the file on disk and the
    offset of the HDF5 data in it (a .keras archive stores its weights file
    uncompressed). H5Dataset.read's arrays are copy-on-write maps of it, one
    per weight: a weight costs no memory or time until it is used, one
    written out unchanged is never copied in memory at all, and one dropped
    (replaced by a rewritten kernel) takes its mapped pages with it."""

    def __init__(self, path: str, offset: int = 0):
        self.path, self.offset = path, offset
        self._fh = open(path, "rb")

    def array(self, offset: int, shape, dtype) -> np.ndarray:
        import mmap
        start = self.offset + offset
        aligned = start - start % mmap.ALLOCATIONGRANULARITY
        size = int(np.prod(shape)) * np.dtype(dtype).itemsize
        mm = mmap.mmap(self._fh.fileno(), start - aligned + size, access=mmap.ACCESS_COPY, offset=aligned)
        return np.ndarray(shape, dtype, buffer=mm, offset=start - aligned)

    def close(self) -> None:
        self._fh.close()     # (the maps stay valid without it)

    def damaged(self, what: str, e: Exception) -> InputFileError:
        return InputFileError(f"{self.name}: {what} cannot be read ({_reason(e)}); the file is "
                              f"truncated or damaged: re-save the model")


def open_h5(path, name: str = None, size: int = None, probe_target=None, mappable=True) -> "H5Group":
    """The HDF5 file at `path` (a path, or a binary file object with `name`,
    `size` and `probe_target` -- (path, offset, size) -- given), opened
    read-only behind the guard, once a child process got through it.
    `mappable`: its contiguous datasets may be read as maps of the file
    (of probe_target's span for a file object)."""
    import h5py
    if isinstance(path, (str, os.PathLike)):
        size = check_regular(path)
        name = probe_target = os.fspath(path)
        where = (name, 0)
    else:
        where = probe_target[:2]
    seconds = safety.current().hdf5_probe_seconds
    why = probe.survives(probe_target, seconds) if seconds > 0 else ""
    if why:
        raise InputFileError(f"{name}: the HDF5 library {why} reading this file; it is damaged (or "
                             f"made to stall readers): re-save the model")
    src = H5Source(name, size, where if mappable else None)
    try:
        f = h5py.File(path, "r")
    except Exception as e:  # noqa: BLE001 -- h5py raises OSError, ValueError, RuntimeError ...
        raise InputFileError(f"{name}: not a readable HDF5 file ({_reason(e)}); the file is truncated, "
                             f"empty or not a Keras model: re-save it with model.save('model.h5')") from None
    return H5Group(f, src, "/")


class H5Attrs:
    """An object's attributes, each checked for size before it is read."""

    def __init__(self, obj, src: H5Source, where: str):
        self._obj, self._src, self._where = obj, src, where

    def __contains__(self, key) -> bool:
        try:
            return key in self._obj.attrs
        except Exception as e:  # noqa: BLE001
            raise self._src.damaged(f"the attributes of '{short(self._where)}'", e) from None

    def keys(self) -> list:
        try:
            return list(self._obj.attrs.keys())
        except Exception as e:  # noqa: BLE001
            raise self._src.damaged(f"the attributes of '{short(self._where)}'", e) from None

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __getitem__(self, key):
        what = f"attribute '{short(key)}' of '{short(self._where)}'"
        try:
            aid = self._obj.attrs.get_id(key)
            n = int(np.prod(aid.shape, dtype=object)) if aid.shape else 1
            per = 16 if aid.dtype.kind == "O" else aid.dtype.itemsize
        except KeyError:
            raise
        except Exception as e:  # noqa: BLE001
            raise self._src.damaged(what, e) from None
        if n * max(per, 1) > self._src.size + safety.SLACK:
            raise InputFileError(f"{self._src.name}: {what} declares {safety.size(n * per)} in a "
                                 f"file of {safety.size(self._src.size)}; the file is damaged")
        try:
            return self._obj.attrs[key]
        except Exception as e:  # noqa: BLE001
            raise self._src.damaged(what, e) from None


class H5Group:
    """An HDF5 group (or the file) seen through the guard: lookups resolve
    one link at a time and never leave the file."""

    def __init__(self, obj, src: H5Source, path: str):
        self._obj, self._src, self.name = obj, src, path

    # -- the mapping the readers use
    def __contains__(self, key) -> bool:
        return self._lookup(key, missing_ok=True) is not None

    def __getitem__(self, key):
        return self._lookup(key, missing_ok=False)

    def get(self, key, default=None):
        got = self._lookup(key, missing_ok=True)
        return default if got is None else got

    def keys(self) -> list:
        try:
            return [k for k in self._obj.keys()]
        except Exception as e:  # noqa: BLE001
            raise self._src.damaged(f"group '{short(self.name)}'", e) from None

    def __iter__(self):
        return iter(self.keys())

    def visititems(self, func):
        """h5py's visititems (depth first, in link order) over what hard
        links reach, each object once: func(name relative to this group,
        object); a result other than None ends the walk and is returned."""
        from h5py import h5l
        seen = set()
        stack = [("", self, iter(self.keys()))]
        while stack:
            prefix, group, keys = stack[-1]
            key = next(keys, None)
            if key is None:
                stack.pop()
                continue
            try:
                if group._obj.id.links.get_info(key.encode("utf-8")).type != h5l.TYPE_HARD:
                    continue
            except Exception as e:  # noqa: BLE001
                raise self._src.damaged(f"group '{short(group.name)}'", e) from None
            child = group[key]
            ident = hash(child._obj.id)
            if ident in seen:
                continue
            seen.add(ident)
            got = func(f"{prefix}{key}", child)
            if got is not None:
                return got
            if isinstance(child, H5Group):
                stack.append((f"{prefix}{key}/", child, iter(child.keys())))
        return None

    def __len__(self) -> int:
        return len(self.keys())

    @property
    def attrs(self) -> H5Attrs:
        return H5Attrs(self._obj, self._src, self.name)

    def close(self) -> None:
        try:
            self._obj.file.close()
        except Exception:  # noqa: BLE001 -- closing a damaged file
            pass
        for c in self._src.closing:
            c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- link by link
    def _lookup(self, key, missing_ok: bool):
        key = str(key)
        start = self._root() if key.startswith("/") else self
        obj = start._walk([p for p in key.split("/") if p], 0)
        if obj is None and not missing_ok:
            raise KeyError(key)
        return obj

    def _root(self) -> "H5Group":
        try:
            return H5Group(self._obj.file, self._src, "/")
        except Exception as e:  # noqa: BLE001
            raise self._src.damaged("the root group", e) from None

    def _walk(self, parts: list, hops: int):
        import h5py
        from h5py import h5l
        node = self
        for part in parts:
            if not isinstance(node, H5Group):
                return None                      # a path through a dataset
            what = f"'{short(node.name.rstrip('/') + '/' + part)}'"
            try:
                links = node._obj.id.links
                name = part.encode("utf-8")
                if not links.exists(name):
                    return None
                kind = links.get_info(name).type
            except Exception as e:  # noqa: BLE001
                raise self._src.damaged(what, e) from None
            if kind == h5l.TYPE_HARD:
                try:
                    obj = node._obj[part]
                except Exception as e:  # noqa: BLE001
                    raise self._src.damaged(what, e) from None
                path = node.name.rstrip("/") + "/" + part
                node = (H5Group(obj, self._src, path) if isinstance(obj, h5py.Group)
                        else H5Dataset(obj, self._src, path))
            elif kind == h5l.TYPE_SOFT:
                if hops >= 16:
                    raise InputFileError(f"{self._src.name}: soft link {what} is part of a chain of "
                                         f"more than 16 links (a loop); the file is damaged")
                target = links.get_val(name).decode("utf-8", "replace")
                base = node._root() if target.startswith("/") else node
                node = base._walk([p for p in target.split("/") if p], hops + 1)
                if node is None:
                    return None                  # a dangling soft link: as if missing
            elif kind == h5l.TYPE_EXTERNAL:
                try:
                    where = " in ".join(reversed([v.decode("utf-8", "replace") if isinstance(v, bytes)
                                                  else str(v) for v in links.get_val(name)]))
                except Exception:  # noqa: BLE001
                    where = "another file"
                raise InputFileError(f"{self._src.name}: {what} is an external link to {short(where, 120)}; "
                                     f"a model file must hold its own data, and the converter never "
                                     f"follows a path named by the file: re-save the model")
            else:
                raise InputFileError(f"{self._src.name}: {what} is a user-defined link, which a Keras "
                                     f"file never holds; re-save the model")
        return node


class H5Dataset:
    """A dataset seen through the guard: where and how it is stored is
    checked before any of it is read."""

    def __init__(self, obj, src: H5Source, path: str):
        self._obj, self._src, self.name = obj, src, path
        self._checked = None

    @property
    def attrs(self) -> H5Attrs:
        return H5Attrs(self._obj, self._src, self.name)

    @property
    def shape(self) -> tuple:
        return self._meta()[0]

    @property
    def dtype(self):
        return self._meta()[1]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def _meta(self):
        if self._checked is None:
            self._checked = self._check()
        return self._checked

    def _check(self):
        from h5py import h5d
        src, what = self._src, f"dataset '{short(self.name)}'"
        try:
            dcpl = self._obj.id.get_create_plist()
            external = dcpl.get_external_count()
            layout = dcpl.get_layout()
            filters = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())] \
                if layout == h5d.CHUNKED else []
        except Exception as e:  # noqa: BLE001
            raise src.damaged(what, e) from None
        if external:
            try:
                names = ", ".join(short(dcpl.get_external(i)[0].decode("utf-8", "replace"), 80)
                                  for i in range(min(external, 3)))
            except Exception:  # noqa: BLE001
                names = "another file"
            raise InputFileError(f"{src.name}: {what} has external storage (its data is said to be in "
                                 f"{names}); a model file must hold its own data, and the converter "
                                 f"never reads a file named by the model: re-save the model")
        if layout == h5d.VIRTUAL:
            raise InputFileError(f"{src.name}: {what} is a virtual dataset (its data maps other "
                                 f"files); a model file must hold its own data: re-save the model")
        unknown = [f for f in filters if f not in _FILTERS]
        if unknown:
            raise InputFileError(f"{src.name}: {what} is compressed with HDF5 filter {unknown[0]}, "
                                 f"which Keras never uses; re-save the model")
        try:
            if self._obj.shape is None:
                raise ValueError("it has no dataspace")
            shape = tuple(int(d) for d in self._obj.shape)
            dtype = self._obj.dtype
            stored = int(self._obj.id.get_storage_size())
        except Exception as e:  # noqa: BLE001 -- a type numpy has no equivalent for, ...
            raise WeightsError(f"{src.name}: {what} cannot be read as an array ({_reason(e)}); the "
                               f"file is damaged or not a Keras weights file") from None
        if not (dtype.kind in "fiub" or (dtype.kind == "V" and dtype.itemsize == 2 and not dtype.fields)):
            raise WeightsError(f"{src.name}: {what} holds {kind_of(dtype)}; weights are real numbers "
                               f"(floating point, or integers for counts and tables): the file is "
                               f"damaged or not a Keras weights file")
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize if shape else dtype.itemsize
        lim = safety.current()
        if src.read + nbytes > lim.max_weight_bytes:
            raise safety.refuse(f"{src.name}: {what} ({safety.size(nbytes)}) takes the weights past "
                                f"{safety.size(lim.max_weight_bytes)}", "max_weight_bytes")
        safety.check_inflation(nbytes, min(stored, src.size), f"{src.name}: {what}")
        safety.check_inflation(src.read + nbytes, src.size, f"{src.name}: the weights read so far")
        return shape, dtype, nbytes

    def __array__(self, dtype=None, copy=None):
        a = self.read()
        return a if dtype is None else a.astype(dtype)

    def read(self) -> np.ndarray:
        shape, dtype, nbytes = self._meta()
        a = self._mapped(shape, dtype, nbytes)
        if a is not None:
            self._src.read += nbytes
            return a
        try:
            a = np.asarray(self._obj[()])
        except Exception as e:  # noqa: BLE001
            raise self._src.damaged(f"dataset '{short(self.name)}'", e) from None
        self._src.read += nbytes
        if a.shape != shape:
            a = a.reshape(shape)
        return a


    def _mapped(self, shape, dtype, nbytes):
        """The dataset as a map of the file when it is stored in one piece,
        uncompressed (_check has refused external storage and virtual
        layouts); else None, to be read."""
        from h5py import h5d
        if not nbytes or dtype.kind not in "fiub" or self._src.where is None:
            return None
        try:
            dsid = self._obj.id
            if dsid.get_create_plist().get_layout() != h5d.CONTIGUOUS:
                return None
            offset = dsid.get_offset()
        except Exception:  # noqa: BLE001 -- read it the ordinary way, which reports damage
            return None
        if offset is None:
            return None
        return self._src.map(offset, shape, dtype, nbytes)


def kind_of(dtype) -> str:
    if dtype.kind in "SUO":
        return "strings or objects"
    if dtype.kind == "c":
        return "complex numbers"
    if dtype.fields:
        return "records (a compound type)"
    return f"values of type {dtype}"


