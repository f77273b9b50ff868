"""docs/usage.md "Fine-tune on your own labels", end to end on generated clips.

Same tools, same order, same arguments as the walk-through: build_annotations with a labels file
(train and test folders) -> a config inheriting configs/demo/finetune_av.py that sets the data
and the classes -> train from a pre-trained checkpoint -> test -> predict.
"""
import re

import torch

from .conftest import REPO, write_clip
from .test_your_own_videos import run_tool

CLASSES = ['low', 'middle', 'high']  # the clip's tone (write_clip: 200 + 150 * seed Hz)
# The walk-through's config; the only addition is the test's tiny schedule (2 epochs, no workers).
CONFIG = '''
_base_ = ['{repo}/configs/demo/finetune_av.py']  # docs: '../demo/finetune_av.py'

data_root = '{root}/data/mylabels'
classes = {classes}
model = dict(head=dict(num_classes=len(classes)))
train_dataloader = dict(dataset=dict(
    ann_file=f'{{data_root}}/train.csv', data_prefix=f'{{data_root}}/videos/train',
    classes=classes, split=None))
test_dataloader = dict(dataset=dict(
    ann_file=f'{{data_root}}/test.csv', data_prefix=f'{{data_root}}/videos/test',
    classes=classes, split=None))
train_cfg = dict(max_epochs=2)
train_dataloader.update(num_workers=0, persistent_workers=False)
test_dataloader.update(num_workers=0)
'''


def test_walkthrough(tmp_path, capsys):
    root = tmp_path / 'data' / 'mylabels'
    rows = ['filename,labels']
    for split, seeds in (('train', range(6)), ('test', range(6, 9))):
        for seed in seeds:
            name = f'clip_{seed}.mp4'
            write_clip(root / 'videos' / split / name, seed % 3, seconds=4.0)
            rows.append(f'{name},{CLASSES[seed % 3]}')
    (root / 'labels.csv').write_text('\n'.join(rows) + '\n')
    # 1. annotations with labels, one file per split
    for split in ('train', 'test'):
        run_tool(capsys, 'tools/data/build_annotations.py', str(root / 'videos' / split),
                 '--labels', str(root / 'labels.csv'), '--out', str(root / f'{split}.csv'),
                 '--workers', '1')
    assert len((root / 'train.csv').read_text().splitlines()) == 7
    # 2. the config; a pre-trained checkpoint of the demo's size (here: an untrained stage-1
    #    model's weights, so that the test needs no pre-training)
    config = tmp_path / 'mylabels_av.py'
    config.write_text(CONFIG.format(repo=REPO, root=tmp_path, classes=CLASSES))
    from mavil.apis import init_model
    torch.manual_seed(0)
    pretrained = init_model(str(REPO / 'configs/demo/stage1.py'))
    ckpt = tmp_path / 'stage1.pth'
    torch.save({'state_dict': pretrained.state_dict(), 'meta': {}}, ckpt)
    # 3. fine-tune
    work = tmp_path / 'work_dirs' / 'mylabels_av'
    run_tool(capsys, 'tools/train.py', str(config), '--work-dir', str(work),
             '--cfg-options', f'load_from={ckpt}')
    log = next(work.glob('*/*.log')).read_text()
    matched = re.search(r'checkpoint \(.*\): (\d+) tensors matched', log)
    assert matched and int(matched.group(1)) > 0, 'the pre-trained encoders were not loaded'
    fine_tuned = work / 'epoch_2.pth'
    assert fine_tuned.is_file()
    # 4. test: top-1 on the test split
    from tools.test import main as test_main
    metrics = test_main([str(config), str(fine_tuned), '--work-dir', str(tmp_path / 'test')])
    assert 0.0 <= metrics['top1'] <= 100.0
    # 5. predict: the class names come from the config
    printed = run_tool(capsys, 'tools/predict.py', str(config), str(fine_tuned),
                       str(root / 'videos' / 'test' / 'clip_7.mp4'), '--topk', '2')
    names = re.findall(r'^\s+[0-9.]+\s+(\w+)$', printed, flags=re.M)
    assert len(names) == 2 and set(names) <= set(CLASSES)
