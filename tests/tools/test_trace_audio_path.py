"""tools/dev/trace_audio_path.py: the traced path reaches loss_rec_audio through every stage,
and the video work is set apart from the audio path."""
import json

from tests.helpers import load_script


def test_trace_reaches_the_audio_loss_through_every_stage(tmp_path, capsys):
    tool = load_script('tools/dev/trace_audio_path.py')
    result = tool.main(['--json', str(tmp_path / 'trace.json')])
    assert json.loads((tmp_path / 'trace.json').read_text()) == result
    audio, both = result['audio path'], result['with video']
    stages = ['mavil/datasets/annotations.py', 'mavil/datasets/av_dataset.py',
              'mavil/datasets/transforms/loading.py', 'mavil/datasets/transforms/audio.py',
              'mavil/models/data_preprocessor.py', 'mavil/models/algorithms/mavil.py',
              'mavil/models/backbones/vit_encoder.py', 'mavil/models/heads/masked_decoder.py',
              'mavil/models/losses/reconstruction.py']
    assert all(audio['calls_per_file'].get(f, 0) > 0 for f in stages), audio['calls_per_file']
    # the video transforms run only for the video; the contrast (after loss_rec_audio) never
    assert 'mavil/datasets/transforms/video.py' not in audio['calls_per_file']
    assert both['calls_per_file']['mavil/datasets/transforms/video.py'] > 0
    assert 'mavil/models/losses/contrastive.py' not in both['calls_per_file']
    assert audio['calls'] < both['calls'] and audio['files'] == len(audio['calls_per_file'])
    assert audio['calls'] == sum(audio['calls_per_file'].values())
    # frames still open when the trace stops: loss_rec_audio is computed inside the model's
    # forward -> loss -> reconstruction_losses, which have not returned yet
    assert audio['calls'] - audio['returns'] == 3
    printed = capsys.readouterr().out
    assert printed.startswith(f"audio path: {audio['files']} files, {audio['calls']} calls")
