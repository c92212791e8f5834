"""Where the ONNX file goes: the destination is checked before any work is
done, the file is written beside it under a temporary name and renamed into
place (so a failure never leaves a partial file, and concurrent writers to
one destination leave one writer's whole file), and every OSError on the way
becomes an OutputError that says what to do.

The file gets the mode a plain open() would give it: the temporary file is
created with 0o666 (the umask applies), or takes the mode of the file it
replaces."""
from __future__ import annotations

import errno
import os
import secrets
import stat

from .errors import OutputError, short


def check_destination(dst, *sources) -> str:
    """`dst` as a path, refused now (before converting) when it cannot be
    written or would replace one of the `sources`."""
    dst = os.fspath(dst)
    folder = os.path.dirname(os.path.abspath(dst)) or "."
    name = os.path.basename(dst)
    if not name or os.path.isdir(dst):
        raise OutputError(f"{dst}: the output path is a directory; pass a file name such as "
                          f"{os.path.join(dst, 'model.onnx')} (bridge convert: end the folder with "
                          f"'/' to write <model name>.onnx inside it)")
    if os.path.exists(dst) and not os.path.isfile(dst):
        raise OutputError(f"{dst}: the output path exists and is not a regular file (a device, FIFO "
                          f"or socket); pass the path of a file to write")
    if not os.path.exists(folder):
        raise OutputError(f"{dst}: the folder {short(folder, 200)} does not exist; create it first "
                          f"(mkdir -p) or choose another output path")
    if not os.path.isdir(folder):
        raise OutputError(f"{dst}: {short(_first_file(folder), 200)} is a file, not a directory, so "
                          f"nothing can be written under it; choose another output path")
    try:
        longest = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        longest = 255
    if len(os.fsencode(name)) > longest:
        raise OutputError(f"{dst}: the file name is {len(os.fsencode(name))} bytes, too long for this "
                          f"file system (at most {longest}); choose a shorter name")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{dst}: the folder {short(folder, 200)} is not writable (permission "
                          f"denied); choose another output path")
    for src in sources:
        if src is not None and os.path.exists(dst) and _same(dst, src):
            raise OutputError(f"{dst}: the output path is the input file {src}; writing there would "
                              f"replace the model: choose another output path")
    return dst


def write_atomically(data: bytes, dst) -> None:
    """`data` to `dst`, all of it or nothing."""
    dst = os.fspath(dst)
    folder = os.path.dirname(os.path.abspath(dst))
    fd, tmp = _create_beside(dst, folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        keep_mode(tmp, dst)
        os.replace(tmp, dst)
    except BaseException as e:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise explain(e, dst) from None
        raise


def _create_beside(dst: str, folder: str) -> tuple:
    """A new file in `folder` under a name no one else uses, mode 0o666
    less the umask (the kernel applies it, as for open())."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        tmp = os.path.join(folder, f".bridge-{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
        except OSError as e:
            raise explain(e, dst) from None
    raise OutputError(f"{dst}: no temporary file could be made beside it; choose another output path")


def keep_mode(tmp: str, dst: str) -> None:
    """An existing destination keeps its mode, as open(dst, 'w') would."""
    try:
        st = os.stat(dst)
    except OSError:
        return
    if stat.S_ISREG(st.st_mode):
        os.chmod(tmp, stat.S_IMODE(st.st_mode))


def explain(e: OSError, dst: str) -> OutputError:
    """An OSError met while writing `dst`, as an OutputError with what to do."""
    folder = short(os.path.dirname(os.path.abspath(dst)), 200)
    what = {
        errno.ENOENT: f"the folder {folder} does not exist; create it first or choose another output path",
        errno.ENOTDIR: f"a part of {folder} is a file, not a directory; choose another output path",
        errno.EISDIR: "the output path is a directory; pass a file name such as model.onnx",
        errno.EACCES: f"the folder {folder} is not writable (permission denied); choose another output path",
        errno.EPERM: f"the folder {folder} is not writable (not permitted); choose another output path",
        errno.EROFS: f"{folder} is on a read-only file system; choose another output path",
        errno.ENAMETOOLONG: "the file name is too long for this file system; choose a shorter name",
        errno.ENOSPC: "the disk is full; free some space or choose another output path",
        errno.EDQUOT: "the disk quota is exhausted; free some space or choose another output path",
    }.get(e.errno, f"it cannot be written ({e.strerror or e}); choose another output path")
    return OutputError(f"{dst}: {what}")


def _first_file(folder: str) -> str:
    """The first component of `folder` that exists and is not a directory."""
    parts = os.path.abspath(folder).split(os.sep)
    for i in range(2, len(parts) + 1):
        p = os.sep.join(parts[:i])
        if os.path.exists(p) and not os.path.isdir(p):
            return p
    return folder


def _same(a: str, b) -> bool:
    try:
        return os.path.samefile(a, os.fspath(b))
    except (OSError, TypeError, ValueError):
        return False
