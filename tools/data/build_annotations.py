#!/usr/bin/env python
"""Scan a folder of videos, keep the usable ones, write an annotation for AVDataset.

    python tools/data/build_annotations.py VIDEO_DIR --out ann.csv
        [--labels LABELS.csv | --label-from-dir] [--split train] [--allow-unlabeled]
        [--format csv|audioset] [--filename-template '{ytid}.mp4']
        [--workers N] [--backend pyav|decord] [--min-duration 1.0] [--check-decode]
        [--modalities audio video] [--extensions .mp4 .mkv .webm .avi]
        [--subset N [--seed S]]

Every .mp4/.mkv/.webm/.avi file under VIDEO_DIR (recursively) is checked in parallel:

1. header (PyAV, as the readers do): opens as a media file, has the streams the pipeline
   needs (``--modalities``), lasts at least ``--min-duration`` s, has decoders for them;
2. packets: every packet is read (not decoded) and the streams must cover the duration the
   header declares, within 0.5 s. This catches files cut off during download, including those
   whose index is at the front and still opens (decord 0.6 then silently returns a shorter
   audio track: 5.9 s of a 10 s clip, no error). Steps 1-2 open the file once and cost ~5 ms per 10-s 640x360
   clip on one core (2M AudioSet clips: ~3 h on one core, ~12 min on 16 workers);
3. with ``--check-decode``: the clip is opened with the training reader (``--backend``), its
   audio decoded whole and its first, middle and last frames decoded, as LoadAudioVideo
   would: catches codecs the reader cannot decode, at ~25x the cost (~130 ms per clip with
   PyAV). Off by default: FFmpeg conceals most in-bitstream corruption instead of reporting
   it, steps 1-2 catch nearly every bad file, and the rare rest is skipped during training.

Usable files are written, sorted, to ``--out``:

* ``--format csv`` (default): ``filename,clip_id,labels,duration`` with ``filename``
  relative to VIDEO_DIR (use it as AVDataset's ``data_prefix``) and labels joined by ';'
  (AVDataset ``ann_format='csv'``).
* ``--format audioset``: AudioSet's segment CSV (``YTID, start, end, "MID,MID"``), for
  ``ann_format='audioset'`` (configs/_base_/datasets/audioset_pretrain.py). File names must
  follow ``--filename-template``; start/end come from an AudioSet ``--labels`` file.

``--subset N --seed S`` keeps N of the usable clips, drawn uniformly without replacement
with ``random.Random(S)`` (same files and seed, same subset), e.g. the 200K / 1M subsets of
AS-2M's pre-training data in Table 5a (configs/mavil/ablations/data_200k.py, data_1m.py).
Fewer usable clips than N is an error.

Unusable files are listed with their reasons on stdout (up to ``--max-print``) and all of
them in ``<out>.errors.csv`` (``filename,error,reason``). Labels (optional):

* ``--labels FILE``: a CSV with a header naming a key column (``filename``, ``clip_id`` or
  ``ytid``) and a ``labels`` (or ``label``) column, labels separated by ';'; or AudioSet's
  segment CSV (balanced_train_segments.csv ...; key YTID, labels MIDs); or VGGSound's
  vggsound.csv (key ``<YTID>_<start:06d>``; ``--split`` keeps one split, files of other
  splits are left out quietly). A file matches by its relative path, its name, its name
  without extension, or its first 11 characters when a '_' follows them (YouTube id). A file
  with no entry is unusable unless ``--allow-unlabeled``.
* ``--label-from-dir``: the folder holding each file (``VIDEO_DIR/dog/x.mp4`` is a ``dog``).
"""
import argparse
import csv
import os
import os.path as osp
import random
import sys
import time
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # _common
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # checkout

import av  # noqa: E402

from _common import VIDEO_EXTENSIONS, parallel_map, scan_videos  # noqa: E402
from mavil.datasets.annotations import annotation_format  # noqa: E402
from mavil.datasets.readers import (ClipTooShortError, CorruptMediaError,  # noqa: E402
                                    MediaError, MissingStreamError, container_info,
                                    open_container, open_media)
from mavil.registry import MEDIA_READERS, registered_names  # noqa: E402
from mavil.structures import MODALITIES  # noqa: E402
DURATION_TOLERANCE = 0.5  # s a stream may fall short of the declared duration (as the readers)


# --- checking one file --------------------------------------------------------------------------
def check_streams(filename: str, container, kinds: Sequence[str],
                  declared: Dict[str, Optional[float]],
                  tolerance: float = DURATION_TOLERANCE) -> None:
    """Demux every packet of the first ``kinds`` streams of the open ``container``; raise if a
    stream has no decoder or no packets, or covers less than its ``declared`` duration."""
    streams = {kind: getattr(container.streams, kind)[0] for kind in kinds}
    for kind, stream in streams.items():
        if stream.codec_context is None:
            raise CorruptMediaError(filename, f'no decoder for its {kind} codec')
    first: Dict[int, int] = {}
    end: Dict[int, int] = {}
    try:
        for packet in container.demux(*streams.values()):
            if packet.size == 0 or packet.pts is None:
                continue
            i = packet.stream.index
            first[i] = min(first.get(i, packet.pts), packet.pts)
            end[i] = max(end.get(i, packet.pts), packet.pts + (packet.duration or 0))
    except av.error.FFmpegError as err:
        raise CorruptMediaError(filename, f'cannot read its packets ({err})') from err
    for kind, stream in streams.items():
        if stream.index not in first:
            raise CorruptMediaError(filename, f'{kind} stream has no packets')
        covered = float((end[stream.index] - first[stream.index]) * stream.time_base)
        if declared[kind] is not None and covered < declared[kind] - tolerance:
            raise CorruptMediaError(
                filename, f'{kind} packets cover {covered:.2f} s but the header declares '
                f'{declared[kind]:.2f} s (truncated file)')


def check_decode(filename: str, kinds: Sequence[str], backend: str,
                 min_duration: float) -> None:
    """Decode the whole audio track and the first, middle and last frames with the reader."""
    with open_media(filename, backend=backend, duration_tolerance=DURATION_TOLERANCE) as reader:
        if 'audio' in kinds:
            waveform, rate = reader.read_audio()
            if waveform.shape[1] / rate < min_duration:
                raise ClipTooShortError(filename, f'audio decodes to {waveform.shape[1] / rate:.2f}'
                                        f' s, shorter than --min-duration={min_duration} s')
        if 'video' in kinds:
            last = reader.frame_times[-1] if reader.num_frames else 0.0
            reader.read_frames([0.0, last / 2, last])


def check_file(job: tuple) -> dict:
    """Check one file; returns its record or its error (never raises for a bad file)."""
    root, name, kinds, min_duration, decode, backend = job
    filename = osp.join(root, name)
    try:
        with open_container(filename) as container:  # one open for header and packets
            info = container_info(container)
            for kind in kinds:
                if not getattr(info, f'has_{kind}'):
                    raise MissingStreamError(filename, f'has no {kind} stream')
            declared = {'audio': info.audio_duration, 'video': info.video_duration}
            duration = info.duration if info.duration is not None else max(
                declared[k] or 0.0 for k in kinds)
            for what, seconds in [('file', duration)] + [(k, declared[k]) for k in kinds]:
                if seconds is not None and seconds < min_duration:
                    raise ClipTooShortError(filename, f'{what} lasts {seconds:.2f} s, shorter '
                                            f'than --min-duration={min_duration} s')
            check_streams(filename, container, kinds, declared)
        if decode:
            check_decode(filename, kinds, backend, min_duration)
    except MediaError as err:
        return dict(filename=name, error=type(err).__name__, reason=err.problem)
    except Exception as err:  # a bug or an unforeseen failure: report it, keep going
        return dict(filename=name, error=type(err).__name__, reason=str(err) or repr(err))
    return dict(filename=name, duration=duration)


# --- labels ---------------------------------------------------------------------------------
class LabelSource:
    """Labels per file from a CSV (see the module docstring for the formats). AudioSet and
    VGGSound files are read by the parsers of :mod:`mavil.datasets.annotations`."""

    def __init__(self, path: str, split: Optional[str] = None) -> None:
        if not osp.isfile(path):
            raise FileNotFoundError(f'labels file not found: {path}')
        self.path = path
        self.labels: Dict[str, List[str]] = {}
        self.segments: Dict[str, Tuple[str, str]] = {}  # AudioSet: key -> (start, end)
        self.other_split: set = set()
        with open(path, newline='') as f:
            lines = [line for line in f if line.strip()]
        if not lines:
            raise ValueError(f'{path}: empty labels file')
        if lines[0].startswith('#'):
            self.kind = 'audioset'
            self._read_audioset()
        else:
            header = [h.strip().lower() for h in next(csv.reader(lines[:1]))]
            if ('labels' in header or 'label' in header) and set(header) & {
                    'filename', 'clip_id', 'ytid'}:
                self.kind = 'csv'
                self._read_csv(lines)
            elif len(header) == 4:
                self.kind = 'vggsound'
                self._read_vggsound(split)
            else:
                raise ValueError(
                    f'{path}: unknown labels format: expected a header with a filename, '
                    'clip_id or ytid column and a labels column, an AudioSet segments CSV or '
                    f'VGGSound\'s vggsound.csv; first line {lines[0].strip()!r}')
        if split is not None and self.kind != 'vggsound':
            raise ValueError(f'--split needs a VGGSound labels file, got a {self.kind} one')

    def _read_csv(self, lines: List[str]) -> None:
        for line_num, row in enumerate(csv.DictReader(lines), 2):
            row = {k.strip().lower(): (v or '').strip() for k, v in row.items() if k}
            key = row.get('filename') or row.get('clip_id') or row.get('ytid')
            if not key:
                raise ValueError(f'{self.path}:{line_num}: no filename / clip_id / ytid')
            value = row.get('labels', row.get('label', ''))
            self.labels[key] = [v.strip() for v in value.split(';') if v.strip()]

    def _read_audioset(self) -> None:
        # the parser AVDataset's ann_format='audioset' reads with (errors name file:line)
        for _, row in annotation_format('audioset').rows(self.path):
            ytid = row['ytid'].strip()
            self.labels[ytid] = [m.strip() for m in row['labels'] if m.strip()]
            self.segments[ytid] = (row['start'].strip(), row['end'].strip())

    def _read_vggsound(self, split: Optional[str]) -> None:
        # the parser of AVDataset's ann_format='vggsound'; files are named <YTID>_<start:06d>
        for line_num, row in annotation_format('vggsound').rows(self.path):
            try:
                key = f'{row["ytid"].strip()}_{int(float(row["start"])):06d}'
            except ValueError:
                raise ValueError(f'{self.path}:{line_num}: start {row["start"]!r} is not a '
                                 'number')
            if split is not None and row['split'] != split:
                self.other_split.add(key)
            else:
                self.labels.setdefault(key, []).extend(label.strip() for label in row['labels'])

    def lookup(self, name: str) -> Tuple[Optional[str], Optional[List[str]]]:
        """(key, labels) of the file ``name`` (relative path); (key, None) when the file
        belongs to another split; (None, None) when it is not listed."""
        stem = osp.splitext(osp.basename(name))[0]
        candidates = [name, osp.splitext(name)[0], osp.basename(name), stem]
        if len(stem) > 11 and stem[11] == '_':
            candidates.append(stem[:11])  # YouTube id + suffix, e.g. <YTID>_30_40.mp4
        for key in candidates:
            if key in self.labels:
                return key, self.labels[key]
            if key in self.other_split:
                return key, None
        return None, None


# --- writing --------------------------------------------------------------------------------
def write_csv(path: str, records: List[dict]) -> None:
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['filename', 'clip_id', 'labels', 'duration'])
        for r in records:
            writer.writerow([r['filename'], r['clip_id'], ';'.join(r['labels']),
                             f'{r["duration"]:.3f}'])


def write_audioset(path: str, records: List[dict]) -> None:
    with open(path, 'w', newline='') as f:
        f.write(f'# written by tools/data/build_annotations.py: {len(records)} usable clips\n'
                '# YTID, start_seconds, end_seconds, positive_labels\n')
        for r in records:
            f.write(f'{r["clip_id"]}, {r["start"]}, {r["end"]}, "{",".join(r["labels"])}"\n')


def write_errors(path: str, errors: List[dict]) -> None:
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['filename', 'error', 'reason'])
        for e in errors:
            writer.writerow([e['filename'], e['error'], e['reason']])


# --- main -------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='\n'.join(__doc__.split('\n')[1:]))
    p.add_argument('video_dir', help='folder scanned recursively for videos')
    p.add_argument('--out', required=True, help='annotation file to write')
    labels = p.add_mutually_exclusive_group()
    labels.add_argument('--labels', help='CSV mapping files (or clip ids) to labels')
    labels.add_argument('--label-from-dir', action='store_true',
                        help='label = name of the folder holding the file')
    p.add_argument('--split', help='keep this split of a VGGSound labels file')
    p.add_argument('--allow-unlabeled', action='store_true',
                   help='keep files that the labels file does not list (no labels)')
    p.add_argument('--format', choices=('csv', 'audioset'), default='csv')
    p.add_argument('--filename-template', default='{ytid}.mp4',
                   help="with --format audioset: how AVDataset names a clip's file")
    p.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    p.add_argument('--backend', choices=registered_names(MEDIA_READERS), default='pyav',
                   help='reader used by --check-decode (the one your config trains with)')
    p.add_argument('--min-duration', type=float, default=1.0,
                   help='shortest usable file and stream, in seconds')
    p.add_argument('--check-decode', action='store_true',
                   help='also decode the audio and a few frames with the reader (~10x slower)')
    p.add_argument('--modalities', nargs='+', choices=MODALITIES, default=list(MODALITIES),
                   help='streams every file must have')
    p.add_argument('--extensions', nargs='+', default=list(VIDEO_EXTENSIONS))
    p.add_argument('--errors', help='where to list unusable files (default <out>.errors.csv)')
    p.add_argument('--subset', type=int, metavar='N',
                   help='keep N usable clips drawn at random (--seed), e.g. Table 5a subsets')
    p.add_argument('--seed', type=int, default=0, help='seed of the --subset draw')
    p.add_argument('--max-print', type=int, default=100,
                   help='unusable files printed on stdout (all are in the errors file)')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.split is not None and args.labels is None:
        raise SystemExit('--split needs --labels (a VGGSound vggsound.csv)')
    start_time = time.time()
    root = osp.abspath(args.video_dir)
    names, others = scan_videos(root, args.extensions)
    label_source = LabelSource(args.labels, args.split) if args.labels else None
    if args.format == 'audioset' and (label_source is None or label_source.kind != 'audioset'):
        raise SystemExit('--format audioset needs --labels with an AudioSet segments CSV '
                         '(start and end seconds come from it)')

    errors: List[dict] = []
    pending: Dict[str, dict] = {}  # name -> record without duration
    other_split = 0
    clip_ids = Counter(osp.splitext(osp.basename(n))[0] for n in names)
    for name in names:
        record = dict(filename=name, labels=[])
        stem = osp.splitext(osp.basename(name))[0]
        record['clip_id'] = stem if clip_ids[stem] == 1 else osp.splitext(name)[0]
        if label_source is not None:
            key, labels = label_source.lookup(name)
            if key is not None and labels is None:
                other_split += 1
                continue
            if key is None and not args.allow_unlabeled:
                errors.append(dict(filename=name, error='NoLabels',
                                   reason=f'not listed in {args.labels}'))
                continue
            if key is not None:
                record.update(clip_id=key, labels=labels)
                if key in label_source.segments:
                    record['start'], record['end'] = label_source.segments[key]
        elif args.label_from_dir:
            folder = osp.basename(osp.dirname(name))
            if not folder:
                errors.append(dict(filename=name, error='NoLabels',
                                   reason='not inside a class folder (--label-from-dir)'))
                continue
            record['labels'] = [folder]
        if args.format == 'audioset':
            expected = _template_name(args.filename_template, record)
            if expected != name:
                errors.append(dict(filename=name, error='NameMismatch', reason=(
                    f'--filename-template {args.filename_template!r} names this clip '
                    f'{expected!r}; rename the file or use --format csv')))
                continue
        pending[name] = record

    jobs = [(root, name, tuple(args.modalities), args.min_duration, args.check_decode,
             args.backend) for name in pending]
    records = []
    for result in parallel_map(check_file, jobs, workers=args.workers, total=len(jobs),
                               desc='checking videos'):
        if 'error' in result:
            errors.append(result)
        else:
            records.append(dict(pending[result['filename']], duration=result['duration']))
    records.sort(key=lambda r: r['filename'])
    errors.sort(key=lambda e: e['filename'])
    usable = len(records)
    if args.subset is not None:
        if not 0 < args.subset <= usable:
            raise SystemExit(f'--subset {args.subset}: {usable} usable clips under '
                             f'{args.video_dir}; choose 1 <= N <= {usable}')
        records = sorted(random.Random(args.seed).sample(records, args.subset),
                         key=lambda r: r['filename'])
    for r in records:
        r.setdefault('start', '0.000')
        r.setdefault('end', f'{r["duration"]:.3f}')

    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    (write_audioset if args.format == 'audioset' else write_csv)(args.out, records)
    errors_path = args.errors or f'{args.out}.errors.csv'
    write_errors(errors_path, errors)

    checks = 'header + packets' + (f' + decode ({args.backend})' if args.check_decode else '')
    print(f'{len(names)} video files under {args.video_dir} ({len(others)} other files '
          f'ignored), checked ({checks}) in {time.time() - start_time:.1f} s with '
          f'{args.workers} worker(s)')
    if others:
        shown = others[:args.max_print]
        print(f'ignored (not ending in {" ".join(args.extensions)}): ' + ', '.join(shown)
              + (f', ... ({len(others) - len(shown)} more)' if len(others) > len(shown) else ''))
    if other_split:
        print(f'{other_split} files belong to another split than {args.split!r}: left out')
    if args.subset is not None:
        print(f'usable: {usable}; subset of {len(records)} (seed {args.seed}) -> {args.out}')
    else:
        print(f'usable: {len(records)} -> {args.out}')
    print(f'unusable: {len(errors)} -> {errors_path}')
    for kind, count in Counter(e['error'] for e in errors).most_common():
        print(f'  {count:6d}  {kind}')
    for e in errors[:args.max_print]:
        print(f'  {e["filename"]}: {e["reason"]}')
    if len(errors) > args.max_print:
        print(f'  ... and {len(errors) - args.max_print} more in {errors_path}')
    return 0 if records else 1


def _template_name(template: str, record: dict) -> str:
    try:
        return template.format(ytid=record['clip_id'], start=int(float(record.get('start', 0))),
                               end=int(float(record.get('end', 0))))
    except (KeyError, ValueError) as err:
        raise SystemExit(f'--filename-template {template!r}: {err}')


if __name__ == '__main__':
    sys.exit(main())
