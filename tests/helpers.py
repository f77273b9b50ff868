"""Helpers several test packages share (fixtures live in the conftest.py files)."""
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]

# A real clip decoded into the tiny model's inputs: audio [1, 64, 32], video [3, 2, 32, 32].
TINY_PIPELINE = [
    dict(type='LoadAudioVideo', backend='pyav', clip_sampler=dict(num_frames=2, fps=2.0)),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=32),
    dict(type='AudioPadCrop', target_length=64),
    dict(type='AudioNormalize'),
    dict(type='VideoResize', short_side=32),
    dict(type='VideoCenterCrop', size=32),
    dict(type='PackAVInputs'),
]


def load_script(relative_path: str) -> ModuleType:
    """Import the script ``REPO/relative_path`` (e.g. ``tools/train.py``) as a module, once
    per session."""
    name = 'script_' + relative_path.replace('/', '_').replace('.py', '')
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / relative_path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
