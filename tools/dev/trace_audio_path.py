#!/usr/bin/env python
"""Which of the project's files and functions one audio sample passes through, from its
annotation row to ``loss_rec_audio``: a dynamic trace (registry dispatch hides the path from
static readers).

Run from a checkout (any revision with ``configs/demo/stage1.py``), e.g. to compare two::

    PYTHONPATH=. python tools/dev/trace_audio_path.py
    PYTHONPATH=/tmp/other python tools/dev/trace_audio_path.py --repo /tmp/other

The sample: one generated 4 s clip (64 x 64 frames at 8 fps, a 440 Hz tone at 16 kHz) in a
one-row CSV annotation, the demo's stage-1 model (``configs/demo/stage1.py``) and a fixed
file-reading pipeline (PyAV; the demo's sizes), the same on every revision. Traced, each step
as the runner does it: ``load_annotations`` (the row), ``AVDataset[0]`` (the pipeline),
``av_collate`` (the sample twice: the contrast after ``loss_rec_audio`` needs a batch of
two), the data preprocessor, and ``model(..., mode='loss')`` up to the return of
the reconstruction loss of the audio (``loss_rec_audio``, computed before the video's and
the contrast). Nothing is traced while configs and components are built.

A call counts when its code lies in the checkout's ``mavil/`` package; ``returns`` counts the
returns of those calls. MAViL's loss needs both modalities, so the video work is traced as
well and set apart: a call is *video* when it is made by a video component (the video
encoder / decoder, a video transform) or on behalf of one (any call below it), or its
function's name says video or frames; every other call is on the *audio path* (audio and
shared work).
"""
import argparse
import collections
import csv
import json
import os.path as osp
import sys
import tempfile
from typing import Optional

import numpy as np

PIPELINE = [  # the demo's stage-1 pipeline (sizes of configs/demo/stage1.py), from the file
    dict(type='LoadAudioVideo', backend='pyav', clip_sampler=dict(num_frames=8, fps=2.0)),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=64),
    dict(type='AudioPadCrop', target_length=400),
    dict(type='AudioNormalize', mean=-2.0, std=3.4),
    dict(type='VideoRandomResizedCrop', size=64, scale=(0.5, 1.0)),
    dict(type='VideoRandomFlip', prob=0.5),
    dict(type='PackAVInputs'),
]
VIDEO_WORDS = ('video', 'frame')


class PathTracer:
    """A ``sys.setprofile`` hook counting the project's calls and returns per file, each
    labelled *video* or *audio path* (see the module docstring)."""

    def __init__(self, package_dir: str, video_objects: list) -> None:
        self.package_dir = osp.realpath(package_dir) + osp.sep
        self.video_ids = {id(o) for o in video_objects}
        self.labels: dict = {}  # id(frame) -> 'video' | 'audio', live project frames
        self.calls = collections.Counter()  # (label, file) -> calls
        self.returns = collections.Counter()  # (label, file) -> returns
        self.stop_after: Optional[int] = None  # id of the frame whose return ends the trace
        self.stopped = False

    def _file(self, code) -> Optional[str]:
        path = osp.realpath(code.co_filename)
        return path[len(self.package_dir) - len('mavil/'):] if path.startswith(
            self.package_dir) else None

    def _label(self, frame) -> str:
        code = frame.f_code
        owner = frame.f_locals.get('self') if code.co_argcount else None
        if (id(owner) in self.video_ids
                or any(w in code.co_name.lower() for w in VIDEO_WORDS)
                or (owner is not None and type(owner).__module__.endswith(
                    ('transforms.video', 'transforms.video_augment')))):
            return 'video'
        parent = frame.f_back
        while parent is not None:  # the nearest project caller's label
            if id(parent) in self.labels:
                return self.labels[id(parent)]
            parent = parent.f_back
        return 'audio'

    def __call__(self, frame, event, arg) -> None:
        if self.stopped or event not in ('call', 'return'):
            return
        name = self._file(frame.f_code)
        if name is None:
            return
        if event == 'call':
            label = self._label(frame)
            self.labels[id(frame)] = label
            self.calls[label, name] += 1
        else:
            label = self.labels.pop(id(frame), 'audio')
            self.returns[label, name] += 1
            if self.stop_after == id(frame):
                self.stopped = True

    def run(self, fn, *args, **kwargs):
        sys.setprofile(self)
        try:
            return fn(*args, **kwargs)
        finally:
            sys.setprofile(None)


def write_sample(root: str) -> str:
    """One 4 s audio-video clip and a one-row CSV annotation naming it; the annotation's path."""
    from mavil.datasets.media_writer import write_av_clip
    t = np.arange(4 * 16000) / 16000
    wave = (0.3 * np.sin(2 * np.pi * 440 * t))[None].astype(np.float32)  # [1, S]
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (32, 64, 64, 3), dtype=np.uint8)  # [T, H, W, 3]
    write_av_clip(osp.join(root, 'clip.mp4'), frames=frames, fps=8.0, waveform=wave,
                  sample_rate=16000)
    ann = osp.join(root, 'annotations.csv')
    with open(ann, 'w', newline='') as f:
        csv.writer(f).writerows([['filename', 'labels'], ['clip.mp4', 'tone']])
    return ann


def trace(repo: str) -> dict:
    """Trace one sample through the checkout ``repo`` (already importable as ``mavil``)."""
    import torch
    from mmengine.config import Config

    import mavil
    from mavil.datasets.annotations import load_annotations
    from mavil.datasets.av_dataset import av_collate
    from mavil.registry import DATASETS, MODELS

    if osp.realpath(osp.dirname(mavil.__file__)) != osp.realpath(osp.join(repo, 'mavil')):
        raise SystemExit(f'error: mavil is imported from {osp.dirname(mavil.__file__)}, not '
                         f'from {repo}; run with PYTHONPATH={repo}')
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(repo, 'configs/demo/stage1.py'))
    model = MODELS.build(cfg.model)
    model.train()
    with tempfile.TemporaryDirectory() as root:
        ann = write_sample(root)
        dataset = DATASETS.build(dict(type='AVDataset', ann_file=ann, data_prefix=root,
                                      pipeline=PIPELINE))
        video_steps = [t for t in dataset.pipeline.transforms if type(t).__name__.startswith(
            'Video')]
        tracer = PathTracer(osp.join(repo, 'mavil'),
                            [model.video_encoder, model.video_decoder, *video_steps])
        rows, _ = tracer.run(load_annotations, ann, ann_format='csv', data_prefix=root)
        assert len(rows) == 1, rows
        sample = tracer.run(dataset.__getitem__, 0)
        batch = tracer.run(av_collate, [sample, sample])  # the contrast needs 2 in a batch
        data = tracer.run(model.data_preprocessor, batch, True)

        rec_loss = model.rec_loss

        def stop_at_audio_loss(frame, event, arg):  # the first rec_loss return: the audio's
            if (event == 'call' and tracer.stop_after is None
                    and frame.f_locals.get('self') is rec_loss and frame.f_code.co_name ==
                    'forward'):
                tracer.stop_after = id(frame)
            tracer(frame, event, arg)

        sys.setprofile(stop_at_audio_loss)
        try:
            losses = model(**data, mode='loss')
        finally:
            sys.setprofile(None)
    if not tracer.stopped or 'loss_rec_audio' not in losses:
        raise RuntimeError('the trace did not reach loss_rec_audio')
    return summarize(tracer)


def summarize(tracer: PathTracer) -> dict:
    """Files, calls and returns on the audio path (and with the video work), per package."""
    def figures(labels: tuple) -> dict:
        files = sorted({f for (lab, f) in tracer.calls if lab in labels})
        per_package = collections.defaultdict(lambda: dict(files=0, calls=0, returns=0))
        for f in files:
            per_package[osp.dirname(f)]['files'] += 1
        for (lab, f), n in tracer.calls.items():
            if lab in labels:
                per_package[osp.dirname(f)]['calls'] += n
        for (lab, f), n in tracer.returns.items():
            if lab in labels:
                per_package[osp.dirname(f)]['returns'] += n
        per_file = {f: sum(n for (lab, g), n in tracer.calls.items() if g == f and lab in labels)
                    for f in files}
        return dict(files=len(files), calls=sum(p['calls'] for p in per_package.values()),
                    returns=sum(p['returns'] for p in per_package.values()),
                    calls_per_file=per_file, per_package=dict(sorted(per_package.items())))
    return {'audio path': figures(('audio',)), 'with video': figures(('audio', 'video'))}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--repo', default=osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))), help='the checkout to trace (default: this one)')
    parser.add_argument('--json', help='also write the figures and file lists here')
    args = parser.parse_args(argv)
    result = trace(args.repo)
    for name, r in result.items():
        print(f"{name}: {r['files']} files, {r['calls']} calls, {r['returns']} returns")
        for package, p in r['per_package'].items():
            print(f"  {package:32s} {p['files']:3d} files {p['calls']:6d} calls "
                  f"{p['returns']:6d} returns")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    main()
