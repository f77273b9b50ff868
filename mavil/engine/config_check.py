"""Catch misspelt config keys when a run starts, not after the compute is spent.

MMEngine ignores top-level keys it does not know (``total_batch_sise = 512`` trains with the
default batch), and ``CheckpointHook`` forwards unknown keyword arguments to the first save.
Configs also hold helper variables (``train_pipeline``, ``tiny_arch`` ...), so an unknown
top-level key is an error only when it is a near miss of a known one (difflib ratio >= 0.85):
that is a typo, reported with the key it probably meant.
"""
import difflib
import inspect
from typing import Iterable, Optional

from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

# keys read by MAViLRunner and the tools, beyond Runner.__init__'s parameters
PROJECT_KEYS = ('runner_type', 'total_batch_size', 'unsafe_load', 'find_unused_parameters',
                'custom_imports', 'gpu_ids', 'dist_params', 'work_dir', 'model_wrapper_cfg',
                'exact_contrast', 'warmup_epochs')
TYPO_CUTOFF = 0.85
# the keys MMEngine's Runner.setup_env reads from env_cfg; it ignores any other
ENV_CFG_KEYS = ('cudnn_benchmark', 'mp_cfg', 'dist_cfg', 'resource_limit')


def known_top_level_keys() -> set[str]:
    params = inspect.signature(Runner.__init__).parameters
    return {name for name in params if name != 'self'} | set(PROJECT_KEYS)


def closest(key: str, known: Iterable[str], cutoff: float = TYPO_CUTOFF) -> Optional[str]:
    """The known key most like ``key`` (difflib), or None below ``cutoff``."""
    matches = difflib.get_close_matches(key, list(known), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def check_top_level_keys(cfg, where: str = 'config') -> None:
    """Raise ValueError for top-level keys that look like misspellings of known ones."""
    known = known_top_level_keys()
    typos = []
    for key in cfg.keys():
        if key in known or key.startswith('_'):
            continue
        guess = closest(key, known)
        if guess is not None:
            typos.append(f'{key!r} (did you mean {guess!r}?)')
    if typos:
        raise ValueError(f'{where}: unknown top-level key(s) {", ".join(typos)}; MMEngine '
                         'would ignore them silently')


def check_env_cfg(cfg, where: str = 'config') -> None:
    """Raise ValueError for ``env_cfg`` keys MMEngine does not read (a misspelt
    ``cudnn_benchmark`` would be ignored silently)."""
    env_cfg = cfg.get('env_cfg') or {}
    unknown = [key for key in env_cfg if key not in ENV_CFG_KEYS]
    if unknown:
        listing = ', '.join(f'{key!r}' + (f' (did you mean {guess!r}?)'
                                          if (guess := closest(key, ENV_CFG_KEYS, 0.6)) else '')
                            for key in unknown)
        raise ValueError(f'{where}: unknown env_cfg key(s) {listing}; known: '
                         f'{", ".join(ENV_CFG_KEYS)}')


def checkpoint_hook_keys() -> set[str]:
    params = inspect.signature(CheckpointHook.__init__).parameters
    return {name for name, p in params.items()
            if name != 'self' and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}


def check_checkpoint_hook_kwargs(extra: dict) -> None:
    """Raise for keyword arguments CheckpointHook would only pass on to the first save."""
    if not extra:
        return
    known = checkpoint_hook_keys()
    listing = []
    for key in extra:
        guess = closest(key, known, cutoff=0.6)
        listing.append(f'{key!r}' + (f' (did you mean {guess!r}?)' if guess else ''))
    raise ValueError(f'default_hooks.checkpoint: unknown argument(s) {", ".join(listing)}; '
                     f'known: {sorted(known)}')
