"""Annotation formats, label maps, and skip-and-count of unreadable clips."""
import json
from types import SimpleNamespace

import pytest

from mavil.datasets import AVDataset, av_collate, load_annotations, read_label_file
from mavil.engine import SkippedSampleHook
from tests.helpers import TINY_PIPELINE



def write(path, text: str):
    path.write_text(text)
    return str(path)


def test_csv_labels_names_and_indices(tmp_path):
    ann = write(tmp_path / 'a.csv', 'filename,labels,clip_id\na.mp4,dog;cat,x\nb.mp4,cat,\n')
    records, label_map = load_annotations(ann, data_prefix='/data')
    assert label_map.classes == ('cat', 'dog')  # sorted names found in the file
    assert records[0]['filename'] == '/data/a.mp4' and records[0]['labels'] == [1, 0]
    assert records[1]['clip_id'] == 'b' and records[1]['labels'] == [0]


def test_jsonl(tmp_path):
    lines = [dict(filename='a.mp4', labels=['x']), dict(filename='b.mp4', labels='y')]
    ann = write(tmp_path / 'a.jsonl', '\n'.join(json.dumps(x) for x in lines))
    records, label_map = load_annotations(ann, ann_format='jsonl')
    assert [r['labels'] for r in records] == [[0], [1]]


def test_audioset_format(tmp_path):
    labels = write(tmp_path / 'class_labels_indices.csv',
                   'index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/05zppz,"Male speech"\n')
    ann = write(tmp_path / 'balanced_train_segments.csv',
                '# Segments csv created Sun Mar  5 10:54:31 2017\n'
                '# num_ytids=2, num_segs=2, num_unique_labels=2, num_positive_labels=3\n'
                '# YTID, start_seconds, end_seconds, positive_labels\n'
                '--PJHxphWEs, 30.000, 40.000, "/m/09x0r,/m/05zppz"\n'
                '--ZhevVpy1s, 50.000, 60.000, "/m/05zppz"\n')
    records, label_map = load_annotations(ann, ann_format='audioset',
                                          label_map=read_label_file(labels))
    assert label_map.classes == ('Speech', 'Male speech')
    assert records[0]['filename'] == '--PJHxphWEs.mp4' and records[0]['labels'] == [0, 1]
    assert records[1]['start'] == 50.0 and records[1]['labels'] == [1]
    with pytest.raises(ValueError, match='label_file'):
        load_annotations(ann, ann_format='audioset')


def test_vggsound_format_and_split(tmp_path):
    ann = write(tmp_path / 'vggsound.csv',
                '---g-f_I2yQ,1,people marching,test\n--0PQM4-hqg,30,waterfall burbling,train\n'
                '--56QUhyDQM,185,playing tennis,train\n')
    train, label_map = load_annotations(ann, ann_format='vggsound', split='train')
    test, _ = load_annotations(ann, ann_format='vggsound', split='test')
    assert len(label_map) == 3  # classes from all splits, so train and test agree
    assert [r['filename'] for r in train] == ['--0PQM4-hqg_000030.mp4', '--56QUhyDQM_000185.mp4']
    assert len(test) == 1 and test[0]['labels'] == [label_map.classes.index('people marching')]


@pytest.mark.parametrize('text, message', [
    ('filename,labels\n,dog\n', r'a.csv:2: missing field "filename"'),
    ('filename,labels\na.mp4,wolf\n', r"a.csv:2: unknown label 'wolf'"),
    ('path,labels\na.mp4,dog\n', 'needs a header with a "filename" column'),
])
def test_bad_rows_name_file_and_line(tmp_path, text, message):
    ann = write(tmp_path / 'a.csv', text)
    with pytest.raises(ValueError, match=message):
        AVDataset(ann_file=ann, classes=['dog', 'cat'])


def test_missing_annotation_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.csv'):
        AVDataset(ann_file=str(tmp_path / 'nope.csv'))


def test_unreadable_clips_are_skipped_and_counted(media, tmp_path):
    bad = tmp_path / 'empty.mp4'
    bad.write_bytes(b'')
    rows = [f'{media["mp4"]},a', f'{bad},b', f'{tmp_path / "missing.mp4"},a',
            f'{media["no_audio"]},b']
    ann = write(tmp_path / 'a.csv', 'filename,labels\n' + '\n'.join(rows) + '\n')
    dataset = AVDataset(ann_file=ann, pipeline=TINY_PIPELINE)
    batch = av_collate([dataset[i] for i in range(len(dataset))])
    assert len(batch['data_samples']) == 1  # only the good clip, nothing substituted
    assert batch['inputs']['audio'][0].shape == (1, 64, 32)
    assert batch['inputs']['video'][0].shape == (3, 2, 32, 32)
    reasons = {item['filename']: item['reason'] for item in batch['skipped']}
    assert set(reasons) == {str(bad), str(tmp_path / 'missing.mp4'), str(media['no_audio'])}
    assert 'audio' in reasons[str(media['no_audio'])]

    logged = []
    runner = SimpleNamespace(
        iter=0, logger=SimpleNamespace(warning=logged.append),
        message_hub=SimpleNamespace(update_scalar=lambda key, value: logged.append(value)))
    hook = SkippedSampleHook(max_skip_ratio=0.5, min_samples=4, min_batch_size=1)
    with pytest.raises(RuntimeError, match=r'3 of 4 training clips \(75.0%\)'):
        hook.before_train_iter(runner, 0, batch)
    assert sum('skipped unreadable clip' in str(m) for m in logged) == 3
    assert 3 in logged  # the running count was logged


def test_skip_under_threshold_continues():
    hook = SkippedSampleHook(max_skip_ratio=0.5, min_samples=2)
    runner = SimpleNamespace(iter=0, logger=SimpleNamespace(warning=lambda m: None),
                             message_hub=SimpleNamespace(update_scalar=lambda k, v: None))
    batch = dict(data_samples=[object()] * 3,
                 skipped=[dict(filename='x.mp4', reason='corrupt')])
    hook.before_train_iter(runner, 0, batch)
    assert hook.skipped['train'] == 1 and hook.seen['train'] == 4


def test_all_skipped_batch_fails_clearly():
    from mavil.models import AVDataPreprocessor
    batch = av_collate([dict(skipped=dict(index=0, filename='x.mp4', reason='corrupt'))])
    with pytest.raises(RuntimeError, match='every sample of this batch was unreadable'):
        AVDataPreprocessor()(batch)
