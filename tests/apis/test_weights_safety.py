"""A weights file never runs code, and weights that fit only in part are refused where used.

Hostile ``.safetensors`` files carry a config that would create a MARK file if it were executed
(Python text, a ``type`` that MMEngine would import and call, a scope that would import a
module, a teacher config ``.py``); every entry point that accepts ``.safetensors`` is given one,
and MARK must not appear.
"""
import json
import sys

import pytest
import torch
from mmengine.config import Config

from mavil.apis import extract_features, inference_classifier, init_model
from mavil.checkpoint_io import load_checkpoint_file
from mavil.safetensors_io import (CONFIG_KEY, WeightsFileError, export_safetensors,
                                  save_safetensors)
from .conftest import REPO, TINY

TINY_FT = REPO / 'tests/fixtures/configs/tiny_ft_av_files.py'
TINY_STAGE1 = REPO / 'tests/fixtures/configs/tiny_stage1.py'
TINY_STAGE2 = REPO / 'tests/fixtures/configs/tiny_stage2.py'


def touch_code(mark) -> str:
    return f"_x = __import__('pathlib').Path({str(mark)!r}).touch()\n"


def with_python_config(model, path, mark, parts=None) -> str:
    """The model's weights, and its config as Python text with a line that touches MARK."""
    state = {k: v for k, v in model.state_dict().items()
             if parts is None or k.split('.', 1)[0] in parts}
    return save_safetensors(state, str(path), {
        'mavil_format': 'mavil-weights-v1',
        'mavil_config': touch_code(mark) + model.cfg.pretty_text,
        'mavil_parts': ','.join(sorted({k.split('.', 1)[0] for k in state}))})


def with_json_config(model, path, data: dict) -> str:
    return save_safetensors(model.state_dict(), str(path), {CONFIG_KEY: json.dumps(data)})


@pytest.fixture(scope='module')
def mavil_model():
    torch.manual_seed(0)
    return init_model(str(TINY))


@pytest.fixture(scope='module')
def classifier():
    torch.manual_seed(1)
    return init_model(str(TINY_FT))


@pytest.fixture
def mark(tmp_path):
    path = tmp_path / 'MARK'
    yield path
    assert not path.exists(), 'code stored in a weights file was executed'


def test_init_model_never_executes_a_stored_config(mavil_model, mark, tmp_path, monkeypatch):
    legacy = with_python_config(mavil_model, tmp_path / 'legacy.safetensors', mark)
    with pytest.raises(WeightsFileError, match=r'legacy\.safetensors stores its config as '
                                               r'Python text.*never executed'):
        init_model(None, legacy)

    data = mavil_model.cfg.to_dict()
    called = dict(data, model={'type': 'subprocess.run', 'args': ['touch', str(mark)]})
    with pytest.raises(WeightsFileError, match=r"model\.type = 'subprocess\.run' \(not a "
                                               'registered component'):
        init_model(None, with_json_config(mavil_model, tmp_path / 'call.safetensors', called))

    package = tmp_path / 'pkg' / 'evilscope'
    package.mkdir(parents=True)
    (package / '__init__.py').write_text(touch_code(mark))
    monkeypatch.syspath_prepend(str(tmp_path / 'pkg'))
    scoped = dict(data, model=dict(data['model'], type='evilscope.MAViL'))
    with pytest.raises(WeightsFileError, match=r"'evilscope\.MAViL' \(not a registered"):
        init_model(None, with_json_config(mavil_model, tmp_path / 'scope.safetensors', scoped))
    assert 'evilscope' not in sys.modules

    evil_py = tmp_path / 'teacher.py'
    evil_py.write_text(touch_code(mark) + TINY_STAGE1.read_text())
    teacher = dict(data, model=dict(data['model'], target=dict(
        type='TeacherTargets', teacher_config=str(evil_py), teacher_ckpt=legacy)))
    with pytest.raises(WeightsFileError, match=r'teacher\.py.*a Python file: loading it runs'):
        init_model(None, with_json_config(mavil_model, tmp_path / 'teacher.safetensors',
                                          teacher))


def test_exported_config_is_data_and_rebuilds(mavil_model, tmp_path):
    path = export_safetensors(mavil_model, str(tmp_path / 'model.safetensors'))
    again = init_model(None, path)
    as_json = json.loads(json.dumps(mavil_model.cfg.to_dict()['model']))  # tuples -> lists
    assert again.cfg.to_dict()['model'] == as_json
    for key, value in mavil_model.state_dict().items():
        torch.testing.assert_close(again.state_dict()[key], value)


def test_every_entry_point_loads_weights_without_running_code(mavil_model, classifier, mark,
                                                              tmp_path, clip_dir):
    from mavil.engine import MAViLRunner
    from mavil.models.pretrained import load_pretrained
    from mavil.registry import MODELS
    from tools.convert_weights import main as convert
    from tools.extract_features import main as extract
    from tools.predict import main as predict
    from tools.visualize_reconstruction import main as visualize

    hostile = with_python_config(mavil_model, tmp_path / 'mavil.safetensors', mark)
    hostile_ft = with_python_config(classifier, tmp_path / 'ft.safetensors', mark)
    clip = str(clip_dir / 'av_0.mp4')

    # init_model with a config, the tools: the weights load, the metadata config is ignored
    loaded = init_model(str(TINY), hostile)
    torch.testing.assert_close(loaded.audio_encoder.blocks[0].attn.qkv.weight,
                               mavil_model.audio_encoder.blocks[0].attn.qkv.weight)
    assert predict([str(TINY_FT), hostile_ft, clip])[0]['pred_labels']
    feats = extract([str(TINY), hostile, clip, '--out', str(tmp_path / 'f.npz'),
                     '--workers', '0'])
    assert feats.files == [clip]
    visualize([str(TINY), hostile, clip, '--out', str(tmp_path / 'fig.png')])
    out = tmp_path / 'export.safetensors'
    convert(['export', str(TINY), hostile, '--out', str(out)])
    assert init_model(None, str(out)) is not None

    # file-level loading: load_from / test / resume (the runner), teachers, pre-trained init
    assert set(load_checkpoint_file(hostile)['state_dict']) == set(mavil_model.state_dict())
    cfg = Config.fromfile(str(TINY))
    cfg.work_dir, cfg.load_from = str(tmp_path / 'run'), hostile
    runner = MAViLRunner.from_cfg(cfg)
    runner.load_or_resume()
    torch.testing.assert_close(runner.model.video_encoder.blocks[0].mlp.fc1.weight,
                               mavil_model.video_encoder.blocks[0].mlp.fc1.weight)
    stage2 = Config.fromfile(str(TINY_STAGE2)).model
    stage2.target.update(teacher_config=str(TINY_STAGE1), teacher_ckpt=hostile)
    student = MODELS.build(stage2)
    torch.testing.assert_close(student.target.teacher.audio_encoder.blocks[1].attn.qkv.weight,
                               mavil_model.audio_encoder.blocks[1].attn.qkv.weight)
    fresh = init_model(str(TINY_FT))
    load_pretrained(fresh, hostile)
    torch.testing.assert_close(fresh.video_encoder.blocks[0].attn.proj.weight,
                               mavil_model.video_encoder.blocks[0].attn.proj.weight)


def test_converter_reads_a_safetensors_source(tmp_path, mark):
    """An AudioMAE checkpoint given as .safetensors is read as tensors (not refused as
    'pickled objects'), its metadata never executed."""
    from tests.models.test_converters import audio_stem, audiomae_pos, timm_blocks
    from tests.models.test_converters import DEPTH, FIX
    from tools.convert_weights import main as convert
    state = {**audio_stem(), **timm_blocks('blocks.', DEPTH), 'pos_embed': audiomae_pos()}
    src = save_safetensors(state, str(tmp_path / 'audiomae.safetensors'),
                           {'mavil_config': touch_code(mark)})
    model, conv = convert(['audiomae', src, str(FIX / 'tiny_stage1.py'), '--out',
                           str(tmp_path / 'out.safetensors')])
    torch.testing.assert_close(model.audio_encoder.blocks[0].attn.qkv.weight,
                               state['blocks.0.attn.qkv.weight'])


def test_corrupt_safetensors_errors_name_the_file(mavil_model, tmp_path):
    good = export_safetensors(mavil_model, str(tmp_path / 'good.safetensors'))
    data = open(good, 'rb').read()
    truncated = tmp_path / 'truncated.safetensors'
    truncated.write_bytes(data[:len(data) // 2])
    garbage = tmp_path / 'garbage.safetensors'
    garbage.write_bytes(b'\x00' * 64)
    for bad in (truncated, garbage):
        with pytest.raises(WeightsFileError, match=rf'{bad.name}: not a readable \.safetensors'):
            init_model(str(TINY), str(bad))
        with pytest.raises(WeightsFileError, match=rf'{bad.name}: not a readable'):
            init_model(None, str(bad))
        with pytest.raises(WeightsFileError, match=rf'{bad.name}: not a readable'):
            load_checkpoint_file(str(bad))


# ------------------------------------------------------------------------ partial weights
def test_partial_export_is_refused_where_the_missing_parts_are_used(mavil_model, tmp_path,
                                                                    clip_dir):
    from tools.extract_features import main as extract
    from tools.visualize_reconstruction import main as visualize
    clip = str(clip_dir / 'av_0.mp4')
    audio_only = export_safetensors(mavil_model, str(tmp_path / 'audio.safetensors'),
                                    parts=['audio_encoder'])
    model = init_model(str(TINY), audio_only)
    with pytest.raises(RuntimeError, match=r'cannot embed audio/video.*lacks \d+ trainable '
                                           r'weights.*video_encoder\.'):
        extract_features(model, [clip])
    assert set(extract_features(model, [clip], modalities=['audio']).embeddings) == {'audio'}
    with pytest.raises(RuntimeError, match=r'video_encoder\..*--allow-partial'):
        extract([str(TINY), audio_only, clip, '--out', str(tmp_path / 'f.npz'),
                 '--workers', '0'])
    feats = extract([str(TINY), audio_only, clip, '--out', str(tmp_path / 'f.npz'),
                     '--workers', '0', '--allow-partial'])
    assert set(feats.embeddings) == {'audio', 'video'}

    encoders = export_safetensors(mavil_model, str(tmp_path / 'enc.safetensors'),
                                  parts=['audio_encoder', 'video_encoder', 'fusion'])
    assert set(extract_features(init_model(str(TINY), encoders), [clip]).embeddings) == {
        'audio', 'video'}
    with pytest.raises(RuntimeError, match=r'cannot reconstruct.*audio_decoder\.'):
        visualize([str(TINY), encoders, clip, '--out', str(tmp_path / 'fig.png')])


def test_predict_refuses_a_random_head(classifier, tmp_path, clip_dir):
    from tools.predict import main as predict
    clip = str(clip_dir / 'av_0.mp4')
    body = export_safetensors(classifier, str(tmp_path / 'body.safetensors'),
                              parts=['audio_encoder', 'video_encoder', 'av_fusion'])
    with pytest.raises(RuntimeError, match=r'cannot classify.*lacks 4 trainable weights.*'
                                           r'head\.\* \(4\)'):
        predict([str(TINY_FT), body, clip])
    with pytest.raises(RuntimeError, match=r'head\.'):
        inference_classifier(init_model(str(TINY_FT), body), clip)
    assert predict([str(TINY_FT), body, clip, '--allow-partial'])[0]['pred_labels']
    loose = init_model(str(TINY_FT), body, allow_partial=True)
    assert inference_classifier(loose, clip)['pred_labels']


def test_testing_a_finetuning_config_with_a_pretraining_checkpoint_is_refused(
        mavil_model, tmp_path):
    """tools/test.py's runner refuses a checkpoint that leaves the head random; training from
    the same checkpoint (load_from, the head new by design) still works."""
    from mavil.engine import MAViLRunner
    ckpt = tmp_path / 'stage1.pth'
    torch.save({'state_dict': mavil_model.state_dict(), 'meta': {}}, ckpt)

    def runner(name: str):
        cfg = Config.fromfile(str(REPO / 'tests/fixtures/configs/tiny_ft_av.py'))
        cfg.work_dir, cfg.load_from = str(tmp_path / name), str(ckpt)
        return MAViLRunner.from_cfg(cfg)

    with pytest.raises(RuntimeError, match=r'lacks 30 trainable weights of AVClassifier.*'
                                           r'av_fusion\.\* \(26\), head\.\* \(4\).*'
                                           '--allow-partial'):
        runner('test').test()
    train = runner('train')
    train.load_or_resume()  # fine-tuning initialisation: no error
    from mavil.engine.resume import check_complete_load
    with pytest.raises(RuntimeError, match=r'head\.\* \(4\)'):
        check_complete_load(train.model, str(ckpt))


def test_test_tool_allow_partial_flag():
    from tools.test import parse_args
    assert parse_args(['c.py', 'x.pth']).allow_partial is False
    assert parse_args(['c.py', 'x.pth', '--allow-partial']).allow_partial is True


# ---------------------------------------------------------------- position-table layouts
def test_converted_pth_records_its_position_layout(tmp_path):
    """AudioMAE weights (AudioMAE's table) converted to .pth, then used with a plain config
    (MAE's table): refused, naming the option that fixes it; with that option they load."""
    from mavil.engine import MAViLRunner
    from tests.models.test_converters import audio_stem, audiomae_pos, timm_blocks
    from tests.models.test_converters import DEPTH, FIX
    from tools.convert_weights import main as convert
    state = {**audio_stem(), **timm_blocks('blocks.', DEPTH), 'pos_embed': audiomae_pos(),
             'norm.weight': torch.ones(audio_stem()['cls_token'].shape[-1]),
             'norm.bias': torch.zeros(audio_stem()['cls_token'].shape[-1])}
    src = tmp_path / 'audiomae.pth'
    torch.save({'model': state}, src)
    for out in (tmp_path / 'converted.pth', tmp_path / 'converted.safetensors'):
        convert(['audiomae', str(src), str(FIX / 'tiny_stage1.py'), '--out', str(out)])
        fix = 'model.audio_encoder.pos_layout=audiomae'
        with pytest.raises(RuntimeError, match=rf"other fixed position tables.*audio_encoder: "
                                               rf"file 'audiomae', model 'mae'.*{fix}"):
            init_model(str(FIX / 'tiny_stage1.py'), str(out), strict=False)
        model = init_model(str(FIX / 'tiny_stage1.py'), str(out), strict=False,
                           cfg_options={'model.audio_encoder.pos_layout': 'audiomae'})
        assert model.audio_encoder.pos_layout == 'audiomae'
        cfg = Config.fromfile(str(FIX / 'tiny_stage1.py'))
        cfg.work_dir, cfg.load_from = str(tmp_path / out.suffix[1:]), str(out)
        with pytest.raises(RuntimeError, match=r"audio_encoder: file 'audiomae', model 'mae'"):
            MAViLRunner.from_cfg(cfg).load_or_resume()


def test_training_checkpoints_record_their_position_layouts(tmp_path):
    from mavil.engine import MAViLRunner
    cfg = Config.fromfile(str(TINY_STAGE1))
    cfg.work_dir = str(tmp_path)
    cfg.model.audio_encoder.pos_layout = 'audiomae'
    MAViLRunner.from_cfg(cfg).save_checkpoint(str(tmp_path), 'iter_1.pth', save_optimizer=False,
                                              save_param_scheduler=False)
    ckpt = load_checkpoint_file(str(tmp_path / 'iter_1.pth'))
    assert ckpt['meta']['pos_layouts'] == {'audio_encoder': 'audiomae', 'video_encoder': 'mae'}
    with pytest.raises(RuntimeError, match=r"audio_encoder: file 'audiomae', model 'mae'"):
        init_model(str(TINY_STAGE1), str(tmp_path / 'iter_1.pth'))
