"""configs/mavil/ablations: every file is a README row, and each differs from its base in
exactly the keys its row documents (a leaf differs under every documented key, and every
differing leaf lies under one). Configs are only loaded here; tests/configs/test_configs.py builds
them (tiny sizes)."""
import ast
from pathlib import Path
from typing import Any

import pytest
from mmengine.config import Config

ABLATIONS = Path(__file__).resolve().parents[2] / 'configs' / 'mavil' / 'ablations'


def readme_rows() -> list[dict]:
    rows = []
    for line in (ABLATIONS / 'README.md').read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if not line.startswith('| ') or len(cells) != 6 or cells[2] in ('Config', '---'):
            continue
        table, cell, config, base, keys, result = cells
        rows.append(dict(table=table, cell=cell, config=config.strip('`'), base=base.strip('`'),
                         keys=[] if keys == 'nothing' else [k.strip().strip('`')
                                                            for k in keys.split(',') if k],
                         result=result))
    return rows


ROWS = readme_rows()
DEFINING = [r for r in ROWS if r['base'].endswith('.py')]


def flatten(tree: Any, prefix: str = '') -> dict[str, Any]:
    if isinstance(tree, dict):
        out = {}
        for key, value in tree.items():
            out.update(flatten(value, f'{prefix}{key}.'))
        return out or {prefix[:-1]: {}}
    return {prefix[:-1]: tree}


def declared_base(path: Path) -> str:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == '_base_':
            return ast.literal_eval(node.value)[0]
    raise AssertionError(f'{path.name} has no _base_')


def test_readme_lists_every_config_once_with_the_paper_numbers():
    files = {p.name for p in ABLATIONS.glob('*.py')}
    defined = [r['config'] for r in DEFINING if not r['config'].startswith('../')]
    assert sorted(defined) == sorted(files), 'each config needs exactly one README row'
    for row in ROWS:  # every referenced config exists; every cell has a paper number
        assert (ABLATIONS / row['config']).is_file(), row
        audio, video = (float(x) for x in row['result'].split(' / '))
        assert 0 < audio < 100 and 0 < video < 100


@pytest.mark.parametrize('row', DEFINING, ids=[r['config'] for r in DEFINING])
def test_config_differs_from_its_base_in_the_documented_keys(row):
    path = ABLATIONS / row['config']
    assert declared_base(path) in (row['base'], f"./{row['base']}"), row
    ours = flatten(Config.fromfile(path).to_dict())
    base = flatten(Config.fromfile(ABLATIONS / row['base']).to_dict())
    changed = sorted(k for k in set(ours) | set(base) if ours.get(k, '<absent>') != base.get(
        k, '<absent>'))

    def under(key: str, doc: str) -> bool:
        return key == doc or key.startswith(doc + '.')

    stray = [k for k in changed if not any(under(k, d) for d in row['keys'])]
    assert not stray, f'{row["config"]} also changes {stray} (README documents {row["keys"]})'
    idle = [d for d in row['keys'] if not any(under(k, d) for k in changed)]
    assert not idle, f'{row["config"]} does not change {idle}'
