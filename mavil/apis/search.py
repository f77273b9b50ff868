"""Cross-modal search over an embedding file (:class:`Features`) and a static result page.

Similarity is the cosine of the query's embedding in one modality with the gallery's in the
other (``a2v``: an audio query ranks videos; ``v2a`` the reverse; ``a2a`` / ``v2v`` within a
modality), the measure the inter-modal contrast was trained with (Eq. 3).
"""
import base64
import html
import io
import os.path as osp
import urllib.parse
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np

from .features import Features

DIRECTIONS = {'a2v': ('audio', 'video'), 'v2a': ('video', 'audio'),
              'a2a': ('audio', 'audio'), 'v2v': ('video', 'video')}


@dataclass
class SearchResult:
    query_index: int
    query_file: str
    direction: str
    indices: list[int]  # gallery rows, best first
    scores: list[float]  # cosine similarities
    files: list[str]


def cosine_ranking(query: np.ndarray, gallery: np.ndarray,
                   valid: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
    """query [D], gallery [N, D] -> (row indices best first, their cosine similarities).

    Rows where ``valid`` is False are left out. Ties keep the lower row first (stable sort).
    """
    valid = np.ones(len(gallery), bool) if valid is None else np.asarray(valid, bool)
    rows = np.flatnonzero(valid)
    q = query.astype(np.float64) / max(np.linalg.norm(query), 1e-12)
    g = gallery[rows].astype(np.float64)
    g = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
    sims = g @ q
    order = np.argsort(-sims, kind='stable')
    return rows[order], sims[order]


def find_query(feats: Features, query: Union[int, str]) -> int:
    """A row index, or a file given by path or unique base name."""
    if isinstance(query, int) or (isinstance(query, str) and query.lstrip('-').isdigit()):
        index = int(query)
        if not -len(feats.files) <= index < len(feats.files):
            raise IndexError(f'query index {index} out of range: {len(feats.files)} files')
        return index % len(feats.files)
    matches = [i for i, f in enumerate(feats.files)
               if f == query or osp.abspath(f) == osp.abspath(query)]
    if not matches:
        matches = [i for i, f in enumerate(feats.files) if osp.basename(f) == osp.basename(query)]
    if len(matches) != 1:
        failed = [f for f, _ in feats.failed if osp.basename(f) == osp.basename(query)]
        why = (f' (it failed to load: {dict(feats.failed)[failed[0]]})' if failed else '')
        raise KeyError(f'query {query!r} matches {len(matches)} files in the embedding file'
                       f'{why}; give its index or full path')
    return matches[0]


def search(feats: Features, query: Union[int, str], *, direction: str = 'a2v',
           topk: int = 10) -> SearchResult:
    """Rank the gallery for one query file of ``feats``."""
    if direction not in DIRECTIONS:
        raise ValueError(f'direction must be one of {sorted(DIRECTIONS)}, got {direction!r}')
    if isinstance(topk, bool) or not isinstance(topk, int) or topk < 1:
        raise ValueError(f'topk must be a positive whole number, got {topk!r}')
    q_mod, g_mod = DIRECTIONS[direction]
    for m in (q_mod, g_mod):
        if m not in feats.embeddings:
            raise KeyError(f'the embedding file has no {m} embeddings (has '
                           f'{sorted(feats.embeddings)})')
    q_dim, g_dim = feats.embeddings[q_mod].shape[1], feats.embeddings[g_mod].shape[1]
    if q_dim != g_dim:
        raise ValueError(f'{direction} compares {q_mod} embeddings of dimension {q_dim} with '
                         f'{g_mod} embeddings of dimension {g_dim}: the embedding file comes '
                         f'from encoders of different widths (cross-modal search needs one '
                         f'space); use {q_mod[0]}2{q_mod[0]} or {g_mod[0]}2{g_mod[0]}')
    index = find_query(feats, query)
    if not feats.present[q_mod][index]:
        raise ValueError(f'{feats.files[index]} has no {q_mod} stream, so it cannot be a '
                         f'{direction} query')
    rows, sims = cosine_ranking(feats.embeddings[q_mod][index], feats.embeddings[g_mod],
                                feats.present[g_mod])
    rows, sims = rows[:topk], sims[:topk]
    return SearchResult(index, feats.files[index], direction, rows.tolist(), sims.tolist(),
                        [feats.files[i] for i in rows])


# ------------------------------------------------------------------------------- HTML
def first_frame_png(path: str, max_side: int = 160) -> Optional[str]:
    """The first video frame as a base64 PNG data URI, None without a decodable frame."""
    import av
    from PIL import Image
    try:
        with av.open(path) as container:
            if not container.streams.video:
                return None
            frame = next(container.decode(video=0))
            image = frame.to_image()
    except (av.error.FFmpegError, StopIteration, OSError):
        return None
    image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.save(buffer, format='PNG')
    return 'data:image/png;base64,' + base64.b64encode(buffer.getvalue()).decode()


def file_url(path: str, page_dir: str) -> str:
    """``path`` as a URL relative to a page in ``page_dir``: every character a URL gives a
    meaning to (``#``, ``?``, ``%``, spaces, tabs, newlines) percent-encoded."""
    relative = osp.relpath(osp.abspath(path), page_dir)
    return '/'.join(urllib.parse.quote(part, safe='') for part in relative.split(osp.sep))


def _card(path: str, page_dir: str, caption: str, with_audio: bool) -> str:
    thumb = first_frame_png(path)
    img = (f'<img src="{thumb}" alt="first frame">' if thumb else
           '<div class="noframe">no video</div>')
    src = html.escape(file_url(path, page_dir))
    audio = (f'<audio controls preload="none" src="{src}"></audio>' if with_audio else '')
    return (f'<div class="card">{img}<div class="cap">{caption}</div>'
            f'<div class="name" title="{html.escape(path)}">{html.escape(osp.basename(path))}'
            f'</div>{audio}</div>')


def write_html(result: SearchResult, feats: Features, out_file: str) -> str:
    """A self-contained page: the query card, then the ranked results (first frames inline
    as PNG, ``<audio>`` players pointing at the files, relative to the page)."""
    page_dir = osp.dirname(osp.abspath(out_file))
    has_audio = feats.present.get('audio', np.zeros(len(feats.files), bool))
    query = _card(result.query_file, page_dir, f'query ({result.direction})',
                  bool(has_audio[result.query_index]))
    cards = [_card(f, page_dir, f'#{rank} &middot; cos {score:.3f}'
                   + (' &middot; <b>query file</b>' if i == result.query_index else ''),
                   bool(has_audio[i]))
             for rank, (i, f, score) in enumerate(
                 zip(result.indices, result.files, result.scores), start=1)]
    title = html.escape(f'MAViL {result.direction} search: {osp.basename(result.query_file)}')
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 16px; background: #fafafa; }}
h1 {{ font-size: 18px; }} h2 {{ font-size: 15px; margin-top: 20px; }}
.row {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.card {{ width: 180px; background: white; border: 1px solid #ddd; border-radius: 6px;
         padding: 8px; }}
.card img, .noframe {{ width: 160px; height: 120px; object-fit: contain; background: #222;
                       display: block; margin: auto; }}
.noframe {{ color: #ccc; text-align: center; line-height: 120px; }}
.cap {{ font-size: 13px; margin-top: 6px; }}
.name {{ font-size: 12px; color: #555; overflow: hidden; text-overflow: ellipsis;
         white-space: nowrap; }}
audio {{ width: 160px; margin-top: 4px; }}
</style></head><body>
<h1>{title}</h1>
<div class="row">{query}</div>
<h2>Top {len(cards)} by cosine similarity</h2>
<div class="row">{''.join(cards)}</div>
</body></html>
"""
    with open(out_file, 'w', encoding='utf-8') as f:
        f.write(page)
    return out_file
