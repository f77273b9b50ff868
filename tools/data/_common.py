"""Helpers shared by the dataset tools in this folder: finding videos, and a parallel map with
a progress bar whose workers use one thread each."""
import multiprocessing
import os
import os.path as osp
from typing import Callable, Iterable, Iterator, List, Optional, Sequence, Tuple

from tqdm import tqdm

VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.webm', '.avi')


def scan_videos(root: str,
                extensions: Sequence[str] = VIDEO_EXTENSIONS) -> Tuple[List[str], List[str]]:
    """Video files under ``root`` (recursively; hidden folders skipped), and the other files
    seen (not ending in one of ``extensions``), both as sorted POSIX paths relative to
    ``root``."""
    if not osp.isdir(root):
        raise NotADirectoryError(f'not a directory: {root}')
    extensions = tuple(e.lower() if e.startswith('.') else f'.{e.lower()}' for e in extensions)
    videos, others = [], []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith('.'))
        for name in files:
            path = osp.relpath(osp.join(folder, name), root).replace(os.sep, '/')
            if name.lower().endswith(extensions) and not name.startswith('.'):
                videos.append(path)
            else:
                others.append(path)
    return sorted(videos), sorted(others)


def _init_worker(initializer: Optional[Callable], initargs: tuple) -> None:
    import torch
    torch.set_num_threads(1)  # parallelism comes from the processes
    if initializer is not None:
        initializer(*initargs)


def parallel_map(fn: Callable, items: Iterable, *, workers: int, desc: str, total: int,
                 initializer: Optional[Callable] = None, initargs: tuple = (),
                 chunksize: int = 4) -> Iterator:
    """``fn(item)`` for every item, in any order, on ``workers`` processes (in this process
    for ``workers <= 1``), with a progress bar on stderr."""
    with tqdm(total=total, desc=desc, unit='file', dynamic_ncols=True) as bar:
        if workers <= 1:
            if initializer is not None:
                initializer(*initargs)
            for item in items:
                yield fn(item)
                bar.update()
            return
        with multiprocessing.Pool(workers, initializer=_init_worker,
                                  initargs=(initializer, initargs)) as pool:
            for result in pool.imap_unordered(fn, items, chunksize=chunksize):
                yield result
                bar.update()
