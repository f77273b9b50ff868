"""Checkpoints named by URL: downloaded once into torch.hub's cache, checked, then used as files.

A config names a weight file either by local path or by ``http(s)://`` URL with its SHA-256.
:func:`cached_file` turns either into a local path: a URL is fetched on first use into
``<torch.hub.get_dir()>/checkpoints/<file name>`` (``$TORCH_HOME``, default
``~/.cache/torch/hub``) with a progress bar, written under a temporary name, checked (length,
then SHA-256) and only then renamed into place, so an interrupted or corrupt download never
leaves a file that a later run would trust. Loading stays the caller's job (weights-only).
"""
import hashlib
import http.client
import logging
import os
import os.path as osp
import tempfile
import urllib.error
import urllib.request
from typing import Optional
from urllib.parse import urlparse

import torch
from mmengine.logging import print_log
from tqdm import tqdm

CHUNK = 1 << 20  # bytes per read


class DownloadError(RuntimeError):
    """A checkpoint could not be downloaded or does not match its SHA-256; the message names
    the URL, the cause and what to do."""


def is_url(path: str) -> bool:
    return urlparse(str(path)).scheme in ('http', 'https')


def cache_path(url: str) -> str:
    """Where :func:`cached_file` keeps ``url``: torch.hub's checkpoint folder, by file name."""
    name = osp.basename(urlparse(url).path)
    if not name:
        raise ValueError(f'{url}: the URL names no file')
    return osp.join(torch.hub.get_dir(), 'checkpoints', name)


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def cached_file(path_or_url: str, *, sha256: Optional[str] = None,
                progress: bool = True, timeout: float = 30.0) -> str:
    """A local file for ``path_or_url``, downloading a URL on first use.

    Args:
        path_or_url: a local path (returned as given) or an ``http(s)://`` URL.
        sha256: the file's expected SHA-256 (hex). A download that differs is discarded; a
            cached copy that differs is an error (delete it to download again). None: not
            checked; the computed hash is logged so that it can be pinned in the config.
        progress: show a progress bar while downloading.
        timeout: seconds to wait for the server (connection and each read).

    Raises:
        DownloadError: the server cannot be reached or answers with an error, the download
            ends early, or the file's SHA-256 differs from ``sha256``.
    """
    path_or_url = str(path_or_url)
    if not is_url(path_or_url):
        return path_or_url
    url, dst = path_or_url, cache_path(path_or_url)
    if osp.isfile(dst):
        if sha256 is not None and file_sha256(dst) != sha256.lower():
            raise DownloadError(f'{dst} (cached download of {url}) has SHA-256 '
                                f'{file_sha256(dst)}, expected {sha256}; delete the file to '
                                'download it again')
        return dst
    os.makedirs(osp.dirname(dst), exist_ok=True)
    got = _download(url, dst, sha256, progress, timeout)
    if sha256 is None:
        print_log(f'downloaded {url} to {dst}, SHA-256 {got} (not checked: no sha256 given; '
                  f"pin it with sha256='{got}' next to the URL)", logger='current',
                  level=logging.WARNING)
    return dst


def _download(url: str, dst: str, sha256: Optional[str], progress: bool,
              timeout: float) -> str:
    """Stream ``url`` to a temporary file beside ``dst``, check it, rename it to ``dst``;
    returns the SHA-256. The temporary file is removed on every failure."""
    fd, partial = tempfile.mkstemp(dir=osp.dirname(dst), prefix=osp.basename(dst) + '.',
                                   suffix='.partial')
    try:
        with os.fdopen(fd, 'wb') as out:
            digest, size, expected = _fetch(url, out, progress, timeout)
        if expected is not None and size != expected:
            raise DownloadError(f'download of {url} ended after {size} of {expected} bytes '
                                '(connection closed early); nothing was kept, try again')
        got = digest.hexdigest()
        if sha256 is not None and got != sha256.lower():
            raise DownloadError(f'download of {url} has SHA-256 {got}, expected {sha256} (a '
                                'changed or corrupt file); nothing was kept')
        os.replace(partial, dst)
        return got
    except BaseException:
        if osp.exists(partial):
            os.remove(partial)
        raise


def _fetch(url: str, out, progress: bool, timeout: float):
    """Write the body of ``url`` to ``out``: (sha256 object, bytes, Content-Length or None)."""
    request = urllib.request.Request(url, headers={'User-Agent': 'mavil'})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        raise DownloadError(f'cannot download {url}: the server answered {err.code} '
                            f'{err.reason}') from err
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, 'reason', err)
        raise DownloadError(f'cannot download {url}: {reason}. Without network access, '
                            f'download it elsewhere to {cache_path(url)} or set the config '
                            'to a local file') from err
    digest, size = hashlib.sha256(), 0
    with response:
        length = response.headers.get('Content-Length')
        expected = int(length) if length and length.isdigit() else None
        with tqdm(total=expected, unit='B', unit_scale=True, unit_divisor=1024,
                  desc=osp.basename(urlparse(url).path), disable=not progress) as bar:
            try:
                for chunk in iter(lambda: response.read(CHUNK), b''):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    bar.update(len(chunk))
            except (OSError, http.client.HTTPException) as err:  # reset, timeout mid-body
                raise DownloadError(f'download of {url} failed after {size} bytes ({err}); '
                                    'nothing was kept, try again') from err
    return digest, size, expected
