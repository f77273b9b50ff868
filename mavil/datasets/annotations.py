"""Annotation files -> clip records ``{'filename', 'clip_id', 'labels', ...}``.

Formats (``ann_format``, names in the ``ANNOTATION_FORMATS`` registry; a plugin adds one by
registering an :class:`AnnotationFormat` subclass)::

    'csv'       header row; columns ``filename`` (required), ``labels`` (class names or indices
                separated by ';'), optional ``clip_id``, ``start``, ``end``.
    'jsonl'     one JSON object per line with the same keys (``labels`` a list or a string).
    'audioset'  AudioSet segment CSVs (balanced / unbalanced / eval): '#' comment lines, then
                ``YTID, start_seconds, end_seconds, "positive_labels"`` with MIDs; class names
                from ``class_labels_indices.csv`` (``index,mid,display_name``) as ``label_file``.
    'vggsound'  ``YTID, start_seconds, label, split`` without header; ``split`` filters rows.

Every malformed row raises a ValueError naming the file, the line and the problem: a CSV row
with more or fewer fields than the header, text that is not UTF-8 (a UTF-8 byte-order mark is
fine). A file (or split) with no records is an error naming the split asked for and the splits
present; rows listing the same clip twice are reported (``drop_duplicates`` removes them).
"""
import csv
import json
import logging
import os.path as osp
from typing import Callable, Iterator, Optional, Sequence

from mmengine.logging import print_log

from mavil.registry import ANNOTATION_FORMATS, get_registered

ENCODING = 'utf-8-sig'  # UTF-8, with or without a byte-order mark (Excel writes one)


class LabelMap:
    """Class names <-> indices; unknown names are errors, never dropped."""

    def __init__(self, classes: Sequence[str], keys: Optional[Sequence[str]] = None) -> None:
        self.classes = tuple(classes)
        keys = self.classes if keys is None else tuple(keys)  # e.g. AudioSet MIDs
        self._index = {key: i for i, key in enumerate(keys)}

    def __len__(self) -> int:
        return len(self.classes)

    def encode(self, label: str, where: str) -> int:
        label = label.strip()
        if label in self._index:
            return self._index[label]
        if label.isdigit() and int(label) < len(self.classes):
            return int(label)
        raise ValueError(f'{where}: unknown label {label!r} (not in the {len(self)}-class label '
                         'map)')


def read_label_file(path: str) -> LabelMap:
    """AudioSet ``class_labels_indices.csv`` (index,mid,display_name) or one name per line;
    text that is not UTF-8 raises naming file and line."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'label file not found: {path}')
    try:
        with open(path, newline='', encoding=ENCODING) as f:
            first = f.readline()
            f.seek(0)
            if first.lower().startswith('index,mid'):
                rows = list(csv.DictReader(f))
                rows.sort(key=lambda r: int(r['index']))
                return LabelMap([r['display_name'] for r in rows],
                                keys=[r['mid'] for r in rows])
            return LabelMap([line.strip() for line in f if line.strip()])
    except UnicodeDecodeError as err:
        raise _not_utf8(path) from err


def _rows_csv(path: str) -> Iterator[tuple[int, dict]]:
    with open(path, newline='', encoding=ENCODING) as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or 'filename' not in reader.fieldnames:
            raise ValueError(f'{path}: csv annotation needs a header with a "filename" column, '
                             f'got {reader.fieldnames}')
        header = reader.fieldnames
        for row in reader:
            if None in row:  # DictReader's key for fields beyond the header
                raise ValueError(f'{path}:{reader.line_num}: {len(header) + len(row[None])} '
                                 f'fields but the header has {len(header)} ({header}); extra: '
                                 f'{row[None]} (a label list with "," must be quoted, or '
                                 'separate labels with ";")')
            if any(value is None for value in row.values()):
                given = sum(value is not None for value in row.values())
                raise ValueError(f'{path}:{reader.line_num}: {given} fields but the header has '
                                 f'{len(header)} ({header})')
            yield reader.line_num, row


def _rows_jsonl(path: str) -> Iterator[tuple[int, dict]]:
    with open(path, encoding=ENCODING) as f:
        for line_num, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield line_num, json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(f'{path}:{line_num}: invalid JSON ({err})') from err


def _rows_audioset(path: str) -> Iterator[tuple[int, dict]]:
    with open(path, newline='', encoding=ENCODING) as f:
        for line_num, fields in enumerate(csv.reader(f, skipinitialspace=True), 1):
            if not fields or fields[0].startswith('#'):
                continue
            if len(fields) != 4:
                raise ValueError(f'{path}:{line_num}: expected YTID, start_seconds, '
                                 f'end_seconds, positive_labels; got {fields}')
            ytid, start, end, labels = fields
            yield line_num, dict(ytid=ytid, start=start, end=end, labels=labels.split(','))


def _rows_vggsound(path: str) -> Iterator[tuple[int, dict]]:
    with open(path, newline='', encoding=ENCODING) as f:
        for line_num, fields in enumerate(csv.reader(f), 1):
            if not fields:
                continue
            if len(fields) != 4:
                raise ValueError(f'{path}:{line_num}: expected YTID, start_seconds, label, '
                                 f'split; got {fields}')
            ytid, start, label, split = fields
            yield line_num, dict(ytid=ytid, start=start, labels=[label], split=split.strip())


class AnnotationFormat:
    """One annotation file format: how its rows read and what they need.

    Attributes:
        rows: ``rows(path)`` yields ``(line number, row dict)`` with the keys above
            (``filename`` or ``ytid``, ``labels``, optional ``clip_id``, ``start``, ``end``,
            ``split``); a malformed row raises a ValueError naming the file and the line.
        filename_template: file name made from a row's fields, for formats that list
            YouTube ids rather than files (None: rows carry ``filename``).
        needs_label_file: the rows hold class ids (e.g. AudioSet MIDs), not names, so the
            class names must come from a label file.
    """
    rows = None
    filename_template: Optional[str] = None
    needs_label_file = False


@ANNOTATION_FORMATS.register_module(name='csv')
class CsvFormat(AnnotationFormat):
    """A CSV file with a header row naming ``filename`` and optional ``labels``, ``clip_id``,
    ``start``, ``end`` columns."""
    rows = staticmethod(_rows_csv)


@ANNOTATION_FORMATS.register_module(name='jsonl')
class JsonlFormat(AnnotationFormat):
    """One JSON object per line, with the keys of the CSV format."""
    rows = staticmethod(_rows_jsonl)


@ANNOTATION_FORMATS.register_module(name='audioset')
class AudioSetFormat(AnnotationFormat):
    """AudioSet segment CSVs: YouTube ids, start and end seconds, label MIDs."""
    rows = staticmethod(_rows_audioset)
    filename_template = '{ytid}.mp4'
    needs_label_file = True


@ANNOTATION_FORMATS.register_module(name='vggsound')
class VGGSoundFormat(AnnotationFormat):
    """VGGSound's CSV: YouTube id, start second, label and split, no header."""
    rows = staticmethod(_rows_vggsound)
    filename_template = '{ytid}_{start:06d}.mp4'


def annotation_format(name: str) -> type:
    """The :class:`AnnotationFormat` registered as ``name`` (KeyError naming the known ones)."""
    return get_registered(ANNOTATION_FORMATS, name, 'ann_format')


def _undecodable_line(path: str) -> tuple[int, int, str]:
    """(line, byte column, reason) of the first line of ``path`` that is not UTF-8."""
    with open(path, 'rb') as f:
        for line_num, raw in enumerate(f, 1):
            try:
                raw.decode(ENCODING if line_num == 1 else 'utf-8')
            except UnicodeDecodeError as err:
                return line_num, err.start + 1, err.reason
    return 0, 0, 'unknown'


def read_rows(rows: Callable[[str], Iterator[tuple[int, dict]]],
              path: str) -> list[tuple[int, dict]]:
    """All ``(line, row)`` of ``path``; text that is not UTF-8 raises naming file and line."""
    try:
        return list(rows(path))
    except UnicodeDecodeError as err:
        raise _not_utf8(path) from err


def _not_utf8(path: str) -> ValueError:
    line, column, reason = _undecodable_line(path)
    return ValueError(f'{path}:{line}: not UTF-8 text ({reason} at byte {column} of the '
                      'line); re-save the file as UTF-8')


def _duplicates(records: list[dict], path: str, drop: bool) -> list[dict]:
    """Report (and with ``drop`` remove) records listing a clip already listed."""
    first_line: dict[tuple, int] = {}
    kept, repeats = [], []
    for record in records:
        key = (record['filename'], record['start'], record['end'])
        if key in first_line:
            repeats.append(f'line {record["line"]} repeats line {first_line[key]} '
                           f'({record["filename"]})')
            if drop:
                continue
        else:
            first_line[key] = record['line']
        kept.append(record)
    if repeats:
        action = ('dropped' if drop else
                  'kept (each is sampled that many times; drop_duplicates=True removes them)')
        print_log(f'{path}: {len(repeats)} duplicate row(s) {action}: ' + '; '.join(repeats[:5])
                  + (f'; ... ({len(repeats) - 5} more)' if len(repeats) > 5 else ''),
                  logger='current', level=logging.WARNING)
    return kept


def _as_label_list(value) -> list[str]:
    if value is None or value == '':
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [v for v in str(value).split(';') if v.strip()]


def _number(value, what: str, where: str) -> Optional[float]:
    if value in (None, ''):
        return None
    try:
        return float(value)
    except ValueError as err:
        raise ValueError(f'{where}: {what} {value!r} is not a number') from err


def load_annotations(ann_file: str,
                     *,
                     ann_format: str = 'csv',
                     data_prefix: str = '',
                     label_map: Optional[LabelMap] = None,
                     filename_template: Optional[str] = None,
                     split: Optional[str] = None,
                     drop_duplicates: bool = False) -> tuple[list[dict], LabelMap]:
    """Parse ``ann_file``. Without ``label_map``, classes are the sorted label names found in
    the whole file (all splits, so train and test agree).

    Raises:
        ValueError: a malformed row (file:line), or no record at all (for ``split``).
    """
    fmt = annotation_format(ann_format)
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file not found: {ann_file}')
    rows = read_rows(fmt.rows, ann_file)
    if label_map is None:
        if fmt.needs_label_file:
            raise ValueError(f'{ann_file}: {ann_format!r} annotations hold class ids, not '
                             'names: give label_file= (AudioSet: "class_labels_indices.csv", '
                             'MID -> class index)')
        names = {name.strip() for _, row in rows for name in _as_label_list(row.get('labels'))}
        label_map = LabelMap(sorted(names))
    template = filename_template or fmt.filename_template
    records = []
    for line_num, row in rows:
        where = f'{ann_file}:{line_num}'
        if split is not None and row.get('split', split) != split:
            continue
        start = _number(row.get('start'), 'start', where)
        end = _number(row.get('end'), 'end', where)
        if template is not None:
            if not row.get('ytid'):
                raise ValueError(f'{where}: missing YouTube id')
            name = template.format(ytid=row['ytid'], start=int(start or 0), end=int(end or 0))
        else:
            name = row.get('filename')
            if not name:
                raise ValueError(f'{where}: missing field "filename"')
        labels = [label_map.encode(label, where) for label in _as_label_list(row.get('labels'))]
        clip_id = row.get('clip_id') or row.get('ytid') or osp.splitext(osp.basename(name))[0]
        records.append(dict(filename=osp.join(data_prefix, name), clip_id=str(clip_id),
                            labels=labels, start=start, end=end, line=line_num))
    if not records:
        raise ValueError(_no_records_message(ann_file, rows, split))
    return _duplicates(records, ann_file, drop_duplicates), label_map


def _no_records_message(path: str, rows: list[tuple[int, dict]], split: Optional[str]) -> str:
    if not rows:
        return f'{path} lists no clips (empty, or a header only)'
    splits = sorted({str(row['split']) for _, row in rows if row.get('split') is not None})
    return (f'{path} has {len(rows)} rows but none of split {split!r}; splits in the file: '
            f'{splits} (names are case-sensitive)')
