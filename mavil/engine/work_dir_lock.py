"""One training run per work dir: a lock file holding the writer's pid and host.

Two runs writing one work dir would mix their checkpoints (and auto-resume would pick either
run's). The lock is created atomically (``O_EXCL``); a second writer is refused with the
holder's pid, host, start time and command. A lock left by a run that died (its pid no longer
exists on this host) is taken over with a warning; a lock from another host cannot be checked
and is never taken over.
"""
import atexit
import datetime
import json
import os
import os.path as osp
import socket
import sys
from typing import Callable, Optional

LOCK_NAME = 'work_dir.lock'


class WorkDirLockedError(RuntimeError):
    """Another run holds the work dir."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


class WorkDirLock:
    """The lock of ``work_dir``: :meth:`acquire` before writing, :meth:`release` after (also
    done at interpreter exit)."""

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_NAME)
        self.held = False

    def _read(self) -> Optional[dict]:
        try:
            with open(self.path) as f:
                holder = json.load(f)
            int(holder['pid']), str(holder['host'])
            return holder
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, 'w') as f:
            json.dump(dict(pid=os.getpid(), host=socket.gethostname(),
                           started=datetime.datetime.now().isoformat(timespec='seconds'),
                           command=' '.join(sys.argv)[:1000]), f)
        return True

    def acquire(self, warn: Callable[[str], None]) -> None:
        """Take the lock, or raise :class:`WorkDirLockedError` naming its holder."""
        os.makedirs(self.work_dir, exist_ok=True)
        for _ in range(3):  # a stale lock removed, then created again
            if self._create():
                self.held = True
                atexit.register(self.release)
                return
            holder = self._read()
            if holder == {}:  # released meanwhile
                continue
            if holder is None:
                raise WorkDirLockedError(
                    f'{self.path} exists but cannot be read: another run may be using '
                    f'{self.work_dir}; delete the file if no run is')
            pid, host = int(holder['pid']), holder['host']
            if host == socket.gethostname() and pid != os.getpid() and not _alive(pid):
                warn(f'{self.path}: the run that held it (pid {pid}, started '
                     f'{holder.get("started")}) no longer exists; taking the work dir over')
                try:
                    os.remove(self.path)
                except FileNotFoundError:
                    pass
                continue
            raise WorkDirLockedError(
                f'{self.work_dir} is in use by another training run (pid {pid} on {host}, '
                f'started {holder.get("started")}: {holder.get("command")!r}): two runs in one '
                f'work dir mix their checkpoints. Wait for it, give this run another '
                f'--work-dir, or delete {self.path} if that run is over')
        raise WorkDirLockedError(f'could not take {self.path}: other runs keep creating it')

    def release(self) -> None:
        """Remove the lock if this process holds it."""
        if not self.held:
            return
        self.held = False
        holder = self._read()
        if holder and int(holder['pid']) == os.getpid() and \
                holder['host'] == socket.gethostname():
            os.remove(self.path)
