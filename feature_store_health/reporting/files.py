"""Atomic file writes: a crash leaves either the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["explain_write_error", "output_path_problem", "write_atomic"]


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; reports are for readers
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def explain_write_error(path: Path, exc: OSError) -> str:
    """Why ``path`` could not be written, in words a user can act on (not "File exists")."""
    for ancestor in [path, *path.parents]:
        if ancestor.exists() or ancestor.is_symlink():
            if ancestor != path and not ancestor.is_dir():
                return f"{ancestor} is a file, not a folder"
            break
    if path.is_dir():
        return f"{path} is a directory"
    if isinstance(exc, PermissionError):
        return f"permission denied ({exc.filename or path})"
    return exc.strerror or str(exc)


def output_path_problem(path: Path) -> str | None:
    """Why a report file could never be written at ``path``, known before the run starts: it is
    a directory, a folder on its way is a file, or the folder it would go in is not writable.
    None when it looks writable (the write itself may still fail: a full disk)."""
    if path.is_dir():
        return f"{path} is a directory"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{path} is not writable"
    for ancestor in path.parents:  # the nearest one that exists is where the folders get made
        if ancestor.exists() or ancestor.is_symlink():
            if not ancestor.is_dir():
                return f"{ancestor} is a file, not a folder"
            if not os.access(ancestor, os.W_OK | os.X_OK):
                return f"{ancestor} is not writable"
            return None
    return None
