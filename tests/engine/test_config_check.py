"""Misspelt config keys fail when the run is built, naming the key meant."""
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mavil.engine import MAViLRunner
from mavil.registry import HOOKS


def test_misspelt_top_level_key_fails_at_build(tiny_config, tmp_path):
    cfg = Config.fromfile(str(tiny_config))
    cfg.work_dir = str(tmp_path)
    cfg.total_batch_sise = 16
    with pytest.raises(ValueError, match=r"'total_batch_sise' \(did you mean "
                                         r"'total_batch_size'\?\)"):
        MAViLRunner.from_cfg(cfg)


def test_helper_variables_are_not_typos(tiny_config):
    from mavil.engine.config_check import check_top_level_keys
    cfg = Config.fromfile(str(tiny_config))
    cfg.train_pipeline, cfg.tiny_arch, cfg.data_root = [], {}, 'data'
    check_top_level_keys(cfg)


def test_misspelt_checkpoint_hook_key_fails_at_build():
    with DefaultScope.overwrite_default_scope('mavil'):
        with pytest.raises(ValueError, match=r"'max_keep_ckpt' \(did you mean "
                                             r"'max_keep_ckpts'\?\)"):
            HOOKS.build(dict(type='CheckpointHook', interval=1, max_keep_ckpt=1))
        hook = HOOKS.build(dict(type='CheckpointHook', interval=1, max_keep_ckpts=1))
    assert type(hook).__name__ == 'AtomicCheckpointHook'  # MMEngine's name gets ours


def test_misspelt_env_cfg_key_fails_at_build(tiny_config, tmp_path):
    cfg = Config.fromfile(str(tiny_config))
    cfg.work_dir = str(tmp_path)
    cfg.env_cfg.cudnn_benchmarkk = True
    with pytest.raises(ValueError, match=r"unknown env_cfg key\(s\) 'cudnn_benchmarkk' \(did you "
                                         r"mean 'cudnn_benchmark'\?\); known: cudnn_benchmark, "
                                         r"mp_cfg, dist_cfg, resource_limit"):
        MAViLRunner.from_cfg(cfg)
