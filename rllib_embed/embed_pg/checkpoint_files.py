"""Complete checkpoints only: written aside and renamed into place, found and checked by one function.

RLlib's `Checkpointable.save_to_path` writes `rllib_checkpoint.json` first and the
folder's own `state.pkl` last, straight into the target folder; a run killed in between
leaves a folder that looks like a checkpoint. EmbedPG therefore saves into a hidden
folder beside the target, adds a manifest (every file's size and SHA-256) and renames
the folder into place (`atomic_save`). Every reader (`rllib evaluate`, transfer, the
pictures, `rllib train --resume`) goes through `resolve_checkpoint`, which takes only
complete checkpoints, says which one it took, and names the damaged file otherwise.

Plain file-system code: no RLlib, no torch, so every layer may import it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import uuid
from typing import Callable, List, Optional, Tuple

MARKER = "rllib_checkpoint.json"  # RLlib's, written first into every algorithm checkpoint
MANIFEST = "checkpoint_manifest.json"  # ours, written last: {"files": {relative path: [size, sha256]}}
CTOR_FILE = "class_and_ctor_args.pkl"  # RLlib's Checkpointable.CLASS_AND_CTOR_ARGS_FILE_NAME
STATE_FILES = ("algorithm_state.pkl", "algorithm_state.msgpack")  # RLlib writes the Algorithm's own state last
TUNE_CHECKPOINT = re.compile(r"^checkpoint_(\d+)$")
_TMP_PREFIX = ".tmp-"  # half-written folders: hidden, never matched by TUNE_CHECKPOINT
# .tmp-<name>[-old]-<host>-<pid>-<8 hex>: which process wrote it.
_TMP_OWNER = re.compile(r"^\.tmp-.+-(?P<host>[^-]+)-(?P<pid>\d+)-[0-9a-f]{8}$")


class CheckpointError(ValueError):
    """A path holds no complete checkpoint, or one of its files is damaged; one line, naming it."""


class UntrustedCheckpointError(CheckpointError):
    """Reading the checkpoint would unpickle its files (which can run any code placed in them),
    and the caller did not say it trusts the checkpoint; one line, naming it and the way to say so."""

    def __init__(self, path: str, missing: str):
        super().__init__(
            f"{path} has no {missing} (written by RLlib alone or by an older rllib-embed): reading it unpickles "
            f"its files, which runs any code placed in them; if you trust where it came from, pass "
            f"--trust-checkpoint (Python: trust_checkpoint=True); see docs/reliability.md, \"Checkpoints from others\"")


# --- writing ----------------------------------------------------------------------------

def atomic_save(save: Callable[[str], object], path: str | os.PathLike) -> str:
    """Runs ``save(folder)`` on a hidden folder beside ``path``, writes the manifest, renames it to ``path``.

    ``path`` appears only complete: before the rename it is absent (or, when it existed,
    e.g. the empty folder Tune hands over, unchanged). Returns ``path`` as a string.
    """
    path = os.path.abspath(os.fspath(path))
    parent, name = os.path.split(path)
    os.makedirs(parent, exist_ok=True)
    remove_abandoned_saves(parent)
    tmp = os.path.join(parent, f"{_TMP_PREFIX}{name}-{_owner()}-{uuid.uuid4().hex[:8]}")
    try:
        save(tmp)
        write_manifest(tmp)
        _fsync_dir(tmp)
        if os.path.isdir(path):
            if os.listdir(path):  # an older checkpoint at the same path: set it aside first
                old = os.path.join(parent, f"{_TMP_PREFIX}{name}-old-{_owner()}-{uuid.uuid4().hex[:8]}")
                os.rename(path, old)
                os.rename(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rmdir(path)  # the empty folder Tune made: rename(2) cannot replace it on every OS
                os.rename(tmp, path)
        else:
            os.rename(tmp, path)
        _fsync_dir(parent)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def _host() -> str:
    """This machine's name, without the '-' that separates a hidden folder's name parts."""
    return socket.gethostname().replace("-", "_")


def _owner() -> str:
    """This process, as a hidden folder's name records it: host and pid."""
    return f"{_host()}-{os.getpid()}"


def remove_abandoned_saves(parent: str) -> List[str]:
    """Removes the hidden folders of saves that were cut short (the process was killed) in
    ``parent``: those written by a process of this host that no longer runs. Folders of running
    processes and of other hosts are left alone. Returns the removed paths."""
    host = _host()
    removed = []
    for entry in os.listdir(parent):
        m = _TMP_OWNER.match(entry)
        if not m or m.group("host") != host or _alive(int(m.group("pid"))):
            continue
        shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
        removed.append(os.path.join(parent, entry))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_manifest(folder: str) -> None:
    """Records the size and SHA-256 of every file under ``folder`` in its manifest (written last)."""
    files = {rel: [os.path.getsize(os.path.join(folder, rel)), _sha256(os.path.join(folder, rel))]
             for rel in _files(folder) if rel != MANIFEST}
    tmp = os.path.join(folder, MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"files": files}, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(folder, MANIFEST))


# --- checking ---------------------------------------------------------------------------

def check_checkpoint(folder: str | os.PathLike) -> None:
    """Raises CheckpointError (naming the file) unless ``folder`` is a complete algorithm checkpoint.

    With a manifest (EmbedPG's checkpoints) every listed file must exist with its size and
    SHA-256; without one (other algorithms, older runs) RLlib's own files must all be
    there, its last-written `state.pkl` included.
    """
    folder = os.fspath(folder)
    manifest_path = os.path.join(folder, MANIFEST)
    if os.path.isfile(manifest_path):
        try:
            with open(manifest_path, encoding="utf-8") as f:
                files = json.load(f)["files"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"damaged checkpoint file {manifest_path}: {describe_error(e)}") from None
        for rel, (size, digest) in sorted(files.items()):
            file = os.path.join(folder, rel)
            if not os.path.isfile(file):
                raise CheckpointError(f"incomplete checkpoint {folder}: file {rel} is missing")
            if os.path.getsize(file) != size or _sha256(file) != digest:
                raise CheckpointError(f"damaged checkpoint file {file}: {os.path.getsize(file)} bytes, "
                                      f"{size} written (truncated or changed since it was saved)")
        return
    for required in (MARKER, CTOR_FILE):
        if not os.path.isfile(os.path.join(folder, required)):
            raise CheckpointError(f"incomplete checkpoint {folder}: file {required} is missing")
    if not any(os.path.isfile(os.path.join(folder, s)) for s in STATE_FILES):
        raise CheckpointError(f"incomplete checkpoint {folder}: file {STATE_FILES[0]} (written last by RLlib) "
                              f"is missing: the save was cut short")


def is_complete(folder: str | os.PathLike) -> bool:
    try:
        check_checkpoint(folder)
    except CheckpointError:
        return False
    return True


def tune_checkpoints(trial_dir: str) -> List[Tuple[int, str]]:
    """(index, path) of the trial folder's `checkpoint_NNNNNN` folders, newest first (complete or not)."""
    if not os.path.isdir(trial_dir):
        return []
    found = [(int(m.group(1)), os.path.join(trial_dir, name))
             for name in os.listdir(trial_dir) if (m := TUNE_CHECKPOINT.match(name))]
    return sorted(found, reverse=True)


def newest_complete_checkpoint(trial_dir: str) -> Tuple[Optional[str], List[str]]:
    """(newest complete checkpoint of a Tune trial folder or None, why each newer one was skipped)."""
    skipped = []
    for _, path in tune_checkpoints(trial_dir):
        try:
            check_checkpoint(path)
            return path, skipped
        except CheckpointError as e:
            skipped.append(str(e))
    return None, skipped


def resolve_checkpoint(path: str | os.PathLike, *, say: Optional[Callable[[str], None]] = None) -> str:
    """The complete algorithm checkpoint ``path`` means: the folder itself, or a Tune trial folder's
    newest complete `checkpoint_*` (an experiment folder with one such trial, too).

    Says which one it took (and which newer ones it skipped, why) through ``say``
    (default: stderr). Raises CheckpointError, one line naming the path or damaged file.
    """
    say = say or (lambda line: print(line, file=sys.stderr))
    path = os.path.abspath(os.path.expanduser(os.fspath(path)))
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint path does not exist: {path}")
    if not os.path.isdir(path):
        raise CheckpointError(f"not a checkpoint: {path} is a file; pass a checkpoint folder (with {MARKER}) "
                              f"or a Tune trial folder")
    if os.path.isfile(os.path.join(path, MARKER)) or os.path.isfile(os.path.join(path, MANIFEST)):
        check_checkpoint(path)
        return path
    trial_dir = path
    if not tune_checkpoints(path):
        trials = sorted(d for d in os.listdir(path) if tune_checkpoints(os.path.join(path, d)))
        if len(trials) > 1:
            raise CheckpointError(f"{path} is an experiment folder with {len(trials)} trials that have "
                                  f"checkpoints; pass one trial folder, e.g. {os.path.join(path, trials[0])}")
        if not trials:
            raise CheckpointError(f"not a checkpoint: {path} has no {MARKER} and no checkpoint_* folder holding one")
        trial_dir = os.path.join(path, trials[0])
    chosen, skipped = newest_complete_checkpoint(trial_dir)
    for why in skipped:
        say(f"skipped: {why}")
    if chosen is None:
        raise CheckpointError(f"no complete checkpoint in {trial_dir}: {skipped[-1]}")
    say(f"checkpoint: {chosen} (newest complete of {len(tune_checkpoints(trial_dir))} in the trial folder)")
    return chosen


def load_checked(load: Callable[[str], object], folder: str | os.PathLike):
    """``load(folder)``; where it fails and a file under ``folder`` cannot be read back, one
    CheckpointError line naming that file instead of the unpickling traceback."""
    try:
        return load(os.fspath(folder))
    except Exception as e:  # noqa: BLE001
        damaged = find_damaged_file(folder)
        if damaged is None:
            raise
        raise CheckpointError(f"damaged checkpoint file {damaged}: {describe_error(e)}") from None


def find_damaged_file(folder: str | os.PathLike) -> Optional[str]:
    """The first pickle or zip (torch) file under ``folder`` that is cut short or garbled (None:
    all whole). Nothing is unpickled: a pickle's opcodes are only parsed (`pickletools`)."""
    import pickletools
    import zipfile

    for rel in _files(os.fspath(folder)):
        file = os.path.join(os.fspath(folder), rel)
        try:
            if rel.endswith(".pkl"):
                with open(file, "rb") as f:
                    for _ in pickletools.genops(f):
                        pass
            elif rel.endswith(".pt"):
                with zipfile.ZipFile(file) as z:
                    if z.testzip() is not None:
                        return file
        except Exception:  # noqa: BLE001  (truncated or garbled: anything may be raised)
            return file
    return None


# --- helpers ----------------------------------------------------------------------------

def _files(folder: str) -> List[str]:
    out = []
    for root, _, names in os.walk(folder):
        for name in names:
            out.append(os.path.relpath(os.path.join(root, name), folder))
    return sorted(out)


def _sha256(file: str) -> str:
    h = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(folder: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def describe_error(e: BaseException) -> str:
    """An exception in one line: its type and its first 200 characters of message."""
    text = " ".join(str(e).split())[:200]
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
