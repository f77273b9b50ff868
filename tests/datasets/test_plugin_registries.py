"""Media backends and annotation formats are open registries: a plugin module named in a
config's ``custom_imports`` adds one, and datasets use it by name."""
import sys
import textwrap

import pytest
from mmengine.config import Config

from mavil.datasets import AVDataset, load_annotations
from mavil.datasets.readers import open_media
from mavil.registry import ANNOTATION_FORMATS, DATASETS, MEDIA_READERS, registered_names
from .media import write_clip

PLUGIN = 'toy_media_plugin'
PLUGIN_SOURCE = '''
from mavil.datasets import AnnotationFormat
from mavil.datasets.readers import PyAVReader
from mavil.registry import ANNOTATION_FORMATS, MEDIA_READERS

OPENED = []


@MEDIA_READERS.register_module(name='toy')
class ToyReader(PyAVReader):
    """PyAV, recording every file it opens."""

    def __init__(self, filename, **kwargs):
        OPENED.append(filename)
        super().__init__(filename, **kwargs)


@ANNOTATION_FORMATS.register_module(name='toy_tsv')
class ToyTsv(AnnotationFormat):
    """name<TAB>label, no header; files are named <name>.mp4."""
    filename_template = '{ytid}.mp4'

    @staticmethod
    def rows(path):
        with open(path) as f:
            for line_num, line in enumerate(f, 1):
                name, label = line.rstrip('\\n').split('\\t')
                yield line_num, dict(ytid=name, labels=[label])
'''


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """A plugin module on sys.path; its registrations are removed afterwards."""
    (tmp_path / f'{PLUGIN}.py').write_text(textwrap.dedent(PLUGIN_SOURCE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop(PLUGIN, None)
    MEDIA_READERS._module_dict.pop('toy', None)
    ANNOTATION_FORMATS._module_dict.pop('toy_tsv', None)


def test_plugin_adds_a_backend_and_a_format_through_custom_imports(plugin_dir, tmp_path):
    assert 'toy' not in registered_names(MEDIA_READERS)
    write_clip(tmp_path / 'clip_a.mp4', seconds=1.5)
    ann = tmp_path / 'ann.tsv'
    ann.write_text('clip_a\tdog\n')
    config = tmp_path / 'toy.py'
    config.write_text(textwrap.dedent(f'''
        custom_imports = dict(imports=['{PLUGIN}'], allow_failed_imports=False)
        dataset = dict(
            type='AVDataset', ann_file={str(ann)!r}, ann_format='toy_tsv',
            data_prefix={str(tmp_path)!r},
            pipeline=[dict(type='LoadAudioVideo', backend='toy', modalities=('audio', ))])
    '''))
    cfg = Config.fromfile(str(config))  # imports the plugin
    plugin = sys.modules[PLUGIN]
    assert {'toy', 'decord', 'pyav'} <= set(registered_names(MEDIA_READERS))
    assert {'toy_tsv', 'csv', 'audioset'} <= set(registered_names(ANNOTATION_FORMATS))

    dataset = DATASETS.build(cfg.dataset)
    assert isinstance(dataset, AVDataset) and dataset.label_map.classes == ('dog', )
    sample = dataset[0]
    assert plugin.OPENED == [str(tmp_path / 'clip_a.mp4')]  # the plugin's reader read it
    assert sample['waveform'].shape[1] == pytest.approx(1.5 * sample['sample_rate'], rel=0.05)
    records, _ = load_annotations(str(ann), ann_format='toy_tsv')
    assert records[0]['filename'] == 'clip_a.mp4' and records[0]['labels'] == [0]


def test_unknown_names_fail_naming_the_known_ones(tmp_path):
    with pytest.raises(KeyError, match=r"unknown media backend 'ffmpeg'.*'decord', 'pyav'"):
        open_media(str(tmp_path / 'x.mp4'), backend='ffmpeg')
    ann = tmp_path / 'a.csv'
    ann.write_text('filename,labels\na.mp4,dog\n')
    with pytest.raises(KeyError, match=r"unknown ann_format 'tsv'.*'audioset', 'csv'"):
        load_annotations(str(ann), ann_format='tsv')
    with pytest.raises(KeyError, match="unknown media backend 'toy'"):
        DATASETS.build(dict(type='AVDataset', ann_file=str(ann),
                            pipeline=[dict(type='LoadAudioVideo', backend='toy')]))
