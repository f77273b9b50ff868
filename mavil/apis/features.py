"""Embed video files: full-view, mean-pooled uni-modal embeddings per clip.

Every file goes through the model's config's test pipeline (:class:`ClipLoader`) for the
streams it has: an audio-only file yields an audio embedding and no video embedding (and the
other way round); a file that cannot be used at all is listed in ``failed`` with its reason.
Embeddings are :func:`mavil.models.layers.pooling.full_view_embedding` (the unmasked
encoder's patch tokens averaged, [CLS] excluded), what ``MAViL`` / ``AVRetriever``
``extract_feat`` return; multi-clip video (``num_clips > 1`` in the test pipeline) is averaged
over its clips.
"""
import csv
import os
import zipfile
import os.path as osp
from dataclasses import dataclass, field
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from mavil.datasets.annotations import load_annotations
from mavil.datasets.readers import MediaError
from mavil.models.layers import full_view_embedding
from .inference import require_weights
from .pipeline import MODALITIES, ClipLoader

VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.webm', '.avi', '.mov', '.m4v', '.flv', '.mpg', '.mpeg')
AUDIO_EXTENSIONS = ('.m4a', '.wav', '.mp3', '.flac', '.ogg', '.opus', '.aac')  # audio only
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS + AUDIO_EXTENSIONS
Sources = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]


@dataclass
class Features:
    """Embeddings of ``files`` (row i = ``files[i]``).

    Attributes:
        files: the files that gave at least one embedding.
        embeddings: modality -> float32 ``[N, D]``; NaN rows where the file lacks the stream.
        present: modality -> bool ``[N]``, which rows are real.
        tokens: modality -> float32 ``[N, (clips,) 1 + L, D]`` encoder token grids ([CLS]
            first), when asked for; NaN where absent.
        failed: ``(file, reason)`` for every file that gave nothing.
    """
    files: list[str]
    embeddings: dict[str, np.ndarray]
    present: dict[str, np.ndarray]
    tokens: dict[str, np.ndarray] = field(default_factory=dict)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def save(self, path: str) -> None:
        """``.npz``: ``files``, ``<modality>`` [N, D], ``<modality>_present``,
        ``<modality>_tokens`` and ``failed_files`` / ``failed_reasons`` (all plain arrays:
        ``np.load(path)`` reads them without unpickling)."""
        arrays = {'files': np.asarray(self.files, dtype=np.str_),
                  'failed_files': np.asarray([f for f, _ in self.failed], dtype=np.str_),
                  'failed_reasons': np.asarray([r for _, r in self.failed], dtype=np.str_)}
        for m, emb in self.embeddings.items():
            arrays[m] = emb
            arrays[f'{m}_present'] = self.present[m]
        for m, tok in self.tokens.items():
            arrays[f'{m}_tokens'] = tok
        tmp = f'{path}.tmp.npz'
        np.savez(tmp, **arrays)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str) -> 'Features':
        """Read a file :meth:`save` wrote; ValueError naming the file and the field when it is
        not one (another .npz, an empty or damaged file)."""
        def foreign(why: str) -> ValueError:
            return ValueError(f'{path} is not an embedding file of tools/extract_features.py '
                              f'({why})')

        unreadable = (OSError, ValueError, EOFError, zipfile.BadZipFile)
        try:
            data = np.load(path, allow_pickle=False)
            if isinstance(data, np.lib.npyio.NpzFile):
                with data:
                    arrays = {key: data[key] for key in data.files}
        except FileNotFoundError:
            raise
        except unreadable as err:
            raise foreign('an empty file' if osp.isfile(path) and osp.getsize(path) == 0 else
                          f'not readable as .npz without unpickling: {type(err).__name__}: '
                          f'{err}') from None
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise foreign(f'it holds one {data.dtype} {list(data.shape)} array, not an .npz')
        return cls._from_arrays(arrays, str(path))

    @classmethod
    def _from_arrays(cls, arrays: dict, path: str) -> 'Features':
        def field_(key: str, kind: str, dims: int) -> np.ndarray:
            if key not in arrays:
                raise ValueError(f'{path} has no field {key!r} (has {sorted(arrays)}): not an '
                                 f'embedding file of tools/extract_features.py')
            value = arrays[key]
            if value.dtype.kind not in kind or value.ndim != dims:
                raise ValueError(f'{path}: field {key!r} is {value.dtype} {list(value.shape)}, '
                                 f'not a {dims}-d array of kind {kind!r}')
            return value

        files = field_('files', 'U', 1)
        emb = {m: field_(m, 'f', 2) for m in MODALITIES if m in arrays}
        present = {m: field_(f'{m}_present', 'b', 1) for m in emb}
        if not emb:
            raise ValueError(f'{path} has neither an audio nor a video field (has '
                             f'{sorted(arrays)}): not an embedding file')
        for m in emb:
            if not len(emb[m]) == len(present[m]) == len(files):
                raise ValueError(f'{path}: {len(files)} files but {len(emb[m])} {m} rows and '
                                 f'{len(present[m])} {m}_present entries')
        failed_files = field_('failed_files', 'U', 1) if 'failed_files' in arrays else []
        failed_reasons = field_('failed_reasons', 'U', 1) if 'failed_reasons' in arrays else []
        return cls(files=[str(f) for f in files], embeddings=emb, present=present,
                   tokens={m: arrays[f'{m}_tokens'] for m in MODALITIES
                           if f'{m}_tokens' in arrays},
                   failed=list(zip(map(str, failed_files), map(str, failed_reasons))))

    def save_per_file(self, out_dir: str) -> list[str]:
        """One ``.npy`` [D] per file and modality it has; returns the paths.

        Outputs mirror the files' paths below their common folder,
        ``out_dir/<relative path without extension>.<modality>.npy``, so files of the same
        name in different folders never share an output; files differing only in their
        extension (``a.mp4``, ``a.mkv``) keep it (``a.mp4.<modality>.npy``)."""
        written = []
        for i, name in enumerate(per_file_names(self.files)):
            for m, emb in self.embeddings.items():
                if self.present[m][i]:
                    path = osp.join(out_dir, f'{name}.{m}.npy')
                    os.makedirs(osp.dirname(path), exist_ok=True)
                    np.save(path, emb[i])
                    written.append(path)
        return written


def per_file_names(files: Sequence[str]) -> list[str]:
    """Distinct output names of distinct files: their paths relative to the common folder,
    without the extension unless two files would then share a name."""
    paths = [osp.abspath(f) for f in files]
    root = osp.commonpath([osp.dirname(p) for p in paths]) if paths else ''
    relative = [osp.relpath(p, root) for p in paths]
    names = [osp.splitext(r)[0] for r in relative]
    while True:  # relative paths of distinct files differ: this ends
        owners: dict[str, set] = {}
        for name, path in zip(names, paths):
            owners.setdefault(name, set()).add(path)
        shared = [len(owners[name]) > 1 and name != rel for name, rel in zip(names, relative)]
        if not any(shared):
            return names
        names = [rel if s else name for name, rel, s in zip(names, relative, shared)]


def resolve_sources(sources: Sources, data_prefix: Optional[str] = None,
                    skipped: Optional[list] = None) -> list[str]:
    """File list from: a list of paths; a directory (its media files, recursively, sorted;
    other files are appended to ``skipped`` when given); an annotation file (``.csv`` /
    ``.jsonl`` in our format; names relative to ``data_prefix``, default the annotation
    file's folder); a ``.txt`` list (one path a line)."""
    if not isinstance(sources, (str, os.PathLike)):
        return [str(s) for s in sources]
    src = str(sources)
    if osp.isdir(src):
        every = sorted(osp.join(root, f) for root, _, files in os.walk(src) for f in files)
        found = [f for f in every if f.lower().endswith(MEDIA_EXTENSIONS)]
        if skipped is not None:
            skipped += [f for f in every if not f.lower().endswith(MEDIA_EXTENSIONS)]
        if not found:
            raise FileNotFoundError(f'no media files ({", ".join(MEDIA_EXTENSIONS)}) in {src}')
        return found
    if not osp.isfile(src):
        raise FileNotFoundError(f'no such file or directory: {src}')
    prefix = osp.dirname(src) if data_prefix is None else data_prefix
    ext = osp.splitext(src)[1].lower()
    if ext in ('.csv', '.jsonl'):
        records, _ = load_annotations(src, ann_format=ext[1:], data_prefix=prefix)
        return [r['filename'] for r in records]
    if ext == '.txt':
        with open(src, encoding='utf-8') as f:
            return [osp.join(prefix, line.strip()) for line in f if line.strip()]
    return [src]  # a single media file


class _FileDataset(Dataset):
    def __init__(self, files: list[str], loader: ClipLoader) -> None:
        self.files, self.loader = files, loader

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> dict:
        try:
            sample = self.loader(self.files[i])
            return dict(index=i, inputs=sample['inputs'])
        except (MediaError, OSError) as err:  # unusable media; pipeline bugs stay loud
            return dict(index=i, error=f'{type(err).__name__}: {err}')


def _as_list(batch: list) -> list:
    return batch


def _preprocess(model: nn.Module, inputs: dict[str, list[torch.Tensor]]) -> dict:
    """The model's own data preprocessor on a subset of modalities."""
    pre = model.data_preprocessor
    saved = getattr(pre, 'modalities', None)
    if saved is not None:
        pre.modalities = tuple(m for m in saved if m in inputs)
    try:
        return pre({'inputs': inputs, 'data_samples': None}, False)['inputs']
    finally:
        if saved is not None:
            pre.modalities = saved


def embed_batch(model: nn.Module, inputs: dict[str, torch.Tensor],
                with_tokens: bool = False) -> tuple[dict, dict]:
    """Preprocessed inputs -> (embeddings {m: [B, D]}, tokens {m: [B, (clips,) 1 + L, D]})."""
    embeddings, tokens = {}, {}
    for m, x in inputs.items():
        emb, tok = full_view_embedding(model.encoders[m], x, m)
        embeddings[m] = emb.float()
        if with_tokens:
            tokens[m] = tok.float()
    return embeddings, tokens


@torch.no_grad()
def extract_features(model: nn.Module, sources: Sources, *,
                     modalities: Sequence[str] = MODALITIES, batch_size: int = 8,
                     num_workers: int = 0, with_tokens: bool = False,
                     data_prefix: Optional[str] = None, progress: bool = False) -> Features:
    """Embed every file of ``sources`` with ``model`` (from :func:`init_model`).

    Args:
        model: a model with ``encoders`` and ``cfg`` (``MAViL``, ``AVRetriever``,
            ``AVClassifier``: its uni-modal encoders).
        sources: file paths, a directory, an annotation file or a ``.txt`` list
            (:func:`resolve_sources`).
        modalities: which embeddings to compute.
        batch_size: clips per forward pass.
        num_workers: data-loader worker processes decoding files.
        with_tokens: also return the encoders' token grids.
        data_prefix: folder the annotation file's names are relative to.
        progress: show a progress bar.
    """
    from tqdm import tqdm

    files = resolve_sources(sources, data_prefix)
    modalities = tuple(m for m in MODALITIES if m in modalities and m in model.encoders)
    if not modalities:
        raise ValueError(f'the model has encoders for {tuple(model.encoders)}, none of which '
                         f'is among the requested modalities')
    require_weights(model, [model.encoders[m] for m in modalities],
                    f'embed {"/".join(modalities)} (--modalities selects fewer)')
    loader = DataLoader(_FileDataset(files, ClipLoader(model.cfg, modalities)),
                        batch_size=batch_size, num_workers=num_workers,
                        collate_fn=_as_list)
    device = next(model.parameters()).device
    rows: dict[int, dict] = {}  # file index -> {m: emb}
    row_tokens: dict[int, dict] = {}
    failed = []
    was_training = model.training
    model.eval()
    try:
        for batch in tqdm(loader, desc='extract features', unit='batch', disable=not progress,
                          dynamic_ncols=True):
            for item in batch:
                if 'error' in item:
                    failed.append((files[item['index']], item['error']))
            good = [item for item in batch if 'error' not in item]
            for subset in {tuple(sorted(item['inputs'])) for item in good}:
                group = [item for item in good if tuple(sorted(item['inputs'])) == subset]
                inputs = _preprocess(model, {m: [it['inputs'][m] for it in group]
                                             for m in subset})
                inputs = {m: x.to(device) for m, x in inputs.items()}
                emb, tok = embed_batch(model, inputs, with_tokens)
                for j, item in enumerate(group):
                    rows[item['index']] = {m: e[j].cpu().numpy() for m, e in emb.items()}
                    row_tokens[item['index']] = {m: t[j].cpu().numpy() for m, t in tok.items()}
    finally:
        model.train(was_training)
    return _assemble(files, rows, row_tokens, failed, modalities)


def _assemble(files, rows, row_tokens, failed, modalities) -> Features:
    order = sorted(rows)
    embeddings, present, tokens = {}, {}, {}
    for m in modalities:
        have = np.array([m in rows[i] for i in order], dtype=bool)
        if not have.any():
            continue
        like = next(rows[i][m] for i in order if m in rows[i])
        embeddings[m] = np.stack([rows[i].get(m, np.full_like(like, np.nan)) for i in order])
        present[m] = have
        if any(m in row_tokens[i] for i in order):
            like = next(row_tokens[i][m] for i in order if m in row_tokens[i])
            tokens[m] = np.stack([row_tokens[i].get(m, np.full_like(like, np.nan))
                                  for i in order])
    return Features(files=[files[i] for i in order], embeddings=embeddings, present=present,
                    tokens=tokens, failed=failed)


def write_failed_csv(failed: list[tuple[str, str]], path: str) -> None:
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(['filename', 'reason'])
        writer.writerows(failed)
