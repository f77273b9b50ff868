"""Broken annotation files fail at dataset build, naming the file and the line: no records
(header only, unknown split), malformed CSV rows, non-UTF-8 text; BOM headers and duplicate
rows are handled."""
import logging

import pytest
from mmengine.logging import MMLogger

from mavil.datasets import AVDataset, load_annotations
from mavil.datasets.annotations import read_label_file


def write(path, text: str, encoding: str = 'utf-8') -> str:
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_header_only_csv_is_an_error_not_a_hang(tmp_path):
    ann = write(tmp_path / 'empty.csv', 'filename,labels\n')
    with pytest.raises(ValueError, match=r'empty\.csv lists no clips'):
        AVDataset(ann_file=ann)


def test_split_without_rows_lists_the_splits_present(tmp_path):
    ann = write(tmp_path / 'vgg.csv', 'abc,1,dog,train\ndef,2,cat,test\n')
    with pytest.raises(ValueError, match=r"vgg\.csv has 2 rows but none of split 'Train'; "
                                         r"splits in the file: \['test', 'train'\]"):
        load_annotations(ann, ann_format='vggsound', split='Train')
    assert len(load_annotations(ann, ann_format='vggsound', split='train')[0]) == 1


@pytest.mark.parametrize('row,problem', [
    ('b.mp4,dog,cat', r'a\.csv:3: 3 fields but the header has 2'),
    ('b.mp4', r'a\.csv:3: 1 fields but the header has 2'),
])
def test_malformed_csv_row_names_file_and_line(tmp_path, row, problem):
    ann = write(tmp_path / 'a.csv', f'filename,labels\na.mp4,dog\n{row}\n')
    with pytest.raises(ValueError, match=problem):
        load_annotations(ann)


def test_short_row_is_not_dropped_by_the_split_filter(tmp_path):
    ann = write(tmp_path / 'a.csv', 'filename,labels,split\na.mp4,dog,train\nb.mp4,cat\n')
    with pytest.raises(ValueError, match=r'a\.csv:3: 2 fields but the header has 3'):
        load_annotations(ann, split='train')


def test_utf8_bom_header_is_accepted(tmp_path):
    ann = write(tmp_path / 'bom.csv', '\ufefffilename,labels\ncafé.mp4,chien\n')
    records, label_map = load_annotations(ann)
    assert records[0]['filename'] == 'café.mp4' and label_map.classes == ('chien', )


@pytest.mark.parametrize('fmt,text', [('csv', 'filename,labels\na.mp4,dog\nb.mp4,chien\xe9\n'),
                                      ('jsonl', '{"filename": "a.mp4"}\n{"filename": "\xe9"}\n')])
def test_non_utf8_names_file_and_line(tmp_path, fmt, text):
    ann = write(tmp_path / f'latin1.{fmt}', text, encoding='latin-1')
    with pytest.raises(ValueError, match=rf'latin1\.{fmt}:\d: not UTF-8 text') as info:
        load_annotations(ann, ann_format=fmt)
    assert f'latin1.{fmt}:{3 if fmt == "csv" else 2}:' in str(info.value)


@pytest.mark.parametrize('text', ['dog\ncat\nchien\xe9\n',
                                  'index,mid,display_name\n0,/m/1,dog\n1,/m/2,chien\xe9\n'])
def test_non_utf8_label_file_names_file_and_line(tmp_path, text):
    labels = write(tmp_path / 'labels.csv', text, encoding='latin-1')
    with pytest.raises(ValueError, match=r'labels\.csv:3: not UTF-8 text'):
        read_label_file(labels)


def test_duplicate_rows_are_reported_and_can_be_dropped(tmp_path):
    ann = write(tmp_path / 'dup.csv', 'filename,labels\na.mp4,dog\nb.mp4,cat\na.mp4,dog\n'
                'a.mp4,dog\n')
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        kept, _ = load_annotations(ann)
        dropped, _ = load_annotations(ann, drop_duplicates=True)
    finally:
        logger.removeHandler(handler)
    assert len(kept) == 4 and [r['filename'] for r in dropped] == ['a.mp4', 'b.mp4']
    assert any('dup.csv: 2 duplicate row(s) kept' in m and 'line 4 repeats line 2' in m
               for m in messages), messages
    assert any('2 duplicate row(s) dropped' in m for m in messages), messages
