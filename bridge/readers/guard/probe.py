"""HDF5's C library loops forever or crashes on some damaged files (a global
heap whose objects claim no size, a B-tree that points back at itself): no
check in Python can stop a loop inside C. So before this process opens an
HDF5 file, a helper process opens it and touches what the readers may
touch: every attribute, every object reached by hard links, every dataset's
storage description, and the data of chunked datasets (whose indexes are
parsed). The helper has hdf5_probe_seconds per file; if it dies or has not
finished, the file is refused (and the next file gets a new helper). A file
the helper got through is then read here, where the same operations cannot
loop.

The first few files of a process are probed by forked children; after that
by one small helper interpreter per process (h5py and numpy only, a few
hundred milliseconds to start), answering one file per line on its stdin:
`python probe.py --serve`, importing nothing from bridge."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading

_SLACK = 1 << 20


def walk(target) -> None:
    """Open `target` (a path, or (path, offset, size) of a stored zip entry)
    and touch everything; Python-level errors are skipped (the readers in
    the parent report them), only the C library's loops and crashes matter."""
    import h5py
    import numpy as np
    from h5py import h5d, h5l
    if isinstance(target, str):
        f, size = h5py.File(target, "r"), os.path.getsize(target)
    else:
        path, offset, size = target
        f = h5py.File(_window(path, offset, size), "r")
    seen = set()
    stack = [f]
    while stack:
        obj = stack.pop()
        _attrs(obj, size)
        if isinstance(obj, h5py.Dataset):
            _dataset(obj, size, h5d, np)
            continue
        try:
            names = list(obj.keys())
        except Exception:  # noqa: BLE001
            continue
        for name in names:
            try:
                if obj.id.links.get_info(name.encode("utf-8")).type != h5l.TYPE_HARD:
                    continue
                child = obj[name]
                key = hash(child.id)
            except Exception:  # noqa: BLE001
                continue
            if key not in seen:
                seen.add(key)
                stack.append(child)


def _attrs(obj, size: int) -> None:
    try:
        names = list(obj.attrs.keys())
    except Exception:  # noqa: BLE001
        return
    for name in names:
        try:
            aid = obj.attrs.get_id(name)
            n = 1
            for d in aid.shape or ():
                n *= int(d)
            if n * max(aid.dtype.itemsize, 16) <= size + _SLACK:
                obj.attrs[name]
        except Exception:  # noqa: BLE001
            pass


def _dataset(ds, size: int, h5d, np) -> None:
    try:
        dcpl = ds.id.get_create_plist()
        if dcpl.get_external_count() or dcpl.get_layout() != h5d.CHUNKED:
            return
        n = 1
        for d in ds.shape or ():
            n *= int(d)
        stored = ds.id.get_storage_size()
        if n * ds.dtype.itemsize <= 100 * min(stored, size) + _SLACK:
            ds[()]
    except Exception:  # noqa: BLE001
        pass


def _window(path: str, offset: int, size: int):
    import io

    class Window(io.RawIOBase):
        def __init__(self):
            super().__init__()
            self.fd, self.pos = os.open(path, os.O_RDONLY), 0

        def readable(self):
            return True

        def seekable(self):
            return True

        def readinto(self, b):
            n = max(0, min(len(b), size - self.pos))
            data = os.pread(self.fd, n, offset + self.pos) if n else b""
            b[:len(data)] = data
            self.pos += len(data)
            return len(data)

        def seek(self, pos, whence=0):
            self.pos = max(0, {0: 0, 1: self.pos, 2: size}[whence] + pos)
            return self.pos

        def tell(self):
            return self.pos
    return Window()


def survives(target, seconds: float) -> str:
    """'' when a helper process got through `target` in time, else why not.
    The first few files of a process go to forked children (tens of
    milliseconds each, where starting the helper costs a few hundred), the
    rest to the helper (milliseconds each)."""
    global _forks
    key = _identity(target)
    with _lock:
        if key is not None and key in _passed:
            return ""
        if _forks < 4 and hasattr(os, "fork") and threading.active_count() == 1:
            _forks += 1
            why = _forked(target, seconds)
        else:
            why = _Helper.ask(target, seconds)
        if not why and key is not None:
            _passed.add(key)
        return why


_lock = threading.Lock()
_forks = 0
_passed: set = set()      # files (unchanged since) a probe got through


def _identity(target):
    """What identifies a file's content in this process: device, inode,
    size and change time (which a rewrite always moves), and the window."""
    path = target if isinstance(target, str) else target[0]
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
            None if isinstance(target, str) else tuple(target[1:]))


class _Helper:
    proc = None

    @classmethod
    def ask(cls, target, seconds: float) -> str:
        if cls.proc is None or cls.proc.poll() is not None:
            try:
                cls.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve"],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.DEVNULL)
            except OSError:
                cls.proc = None
                return _forked(target, seconds) if hasattr(os, "fork") else ""
        spec = target if isinstance(target, str) else "\0".join(str(x) for x in target)
        try:
            cls.proc.stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
            cls.proc.stdin.flush()
            ready, _, _ = select.select([cls.proc.stdout], [], [], seconds)
            answer = cls.proc.stdout.readline() if ready else None
        except OSError:
            answer = b""
        if answer == b"done\n":
            return ""
        proc, cls.proc = cls.proc, None
        if answer is None:
            proc.kill()
            proc.wait()
            return f"did not finish in {seconds:g} s"
        code = proc.wait()
        return f"crashed (signal {-code})" if code < 0 else f"stopped (exit {code})"


def _forked(target, seconds: float) -> str:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                                   # the child: never returns
        try:
            os.close(r)
            quiet = os.open(os.devnull, os.O_WRONLY)   # nothing it says reaches our stdout / stderr
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
            walk(target)
        except BaseException:  # noqa: BLE001 -- only loops and crashes matter here
            pass
        os._exit(0)
    os.close(w)
    try:
        ready, _, _ = select.select([r], [], [], seconds)
        if not ready:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(r)
    if not ready:
        return f"did not finish in {seconds:g} s"
    if os.WIFSIGNALED(status):
        return f"crashed (signal {os.WTERMSIG(status)})"
    return ""


def _serve() -> None:
    for line in sys.stdin.buffer:
        spec = line.rstrip(b"\n").decode("utf-8", "surrogateescape")
        parts = spec.split("\0")
        try:
            walk(parts[0] if len(parts) == 1 else (parts[0], int(parts[1]), int(parts[2])))
        except Exception:  # noqa: BLE001 -- only loops and crashes matter here
            pass
        sys.stdout.buffer.write(b"done\n")
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        _serve()
