"""README.md stays a short user's document, and every relative link of README.md and the
docs/ pages points to a file (and, with ``#anchor``, a heading) that exists."""
import re
from pathlib import Path

import pytest

from tests.conftest import REPO

README_MAX_LINES = 250
PAGES = [REPO / 'README.md', *sorted((REPO / 'docs').glob('*.md'))]
FENCE = re.compile(r'^(```|~~~).*?^\1', re.M | re.S)
INLINE_CODE = re.compile(r'`[^`\n]*`')
LINK = re.compile(r'\[[^\]\n]*\]\(([^)\s]+)\)')


def links(text: str) -> list[str]:
    """Targets of ``[text](target)`` links outside code blocks and inline code."""
    text = INLINE_CODE.sub('', FENCE.sub('', text))
    return LINK.findall(text)


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped,
    spaces to hyphens."""
    text = FENCE.sub('', path.read_text(encoding='utf-8'))
    found = set()
    for title in re.findall(r'^#{1,6}\s+(.+?)\s*#*$', text, flags=re.M):
        title = title.replace('`', '').strip().lower()
        found.add(re.sub(r'\s', '-', re.sub(r'[^\w\- ]', '', title)))
    return found


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in links(page.read_text(encoding='utf-8')):
        if re.match(r'[a-z][a-z0-9+.-]*:', target):  # https:, mailto:, ...
            continue
        path, _, anchor = target.partition('#')
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f'{target}: no file {dest}')
        elif anchor and dest.suffix == '.md' and anchor not in anchors(dest):
            broken.append(f'{target}: no heading #{anchor} in {dest.name}')
    return broken


def test_readme_is_short():
    lines = len((REPO / 'README.md').read_text(encoding='utf-8').splitlines())
    assert lines <= README_MAX_LINES, (
        f'README.md has {lines} lines (at most {README_MAX_LINES}): move details to docs/')


@pytest.mark.parametrize('page', PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page):
    assert broken_links(page) == [], f'{page.relative_to(REPO)}: broken links'


def test_link_check_finds_a_broken_link(tmp_path):
    (tmp_path / 'other.md').write_text('# A `code` title\n\n## Data flow\n')
    page = tmp_path / 'page.md'
    page.write_text('[ok](other.md) [ok](other.md#data-flow) [ok](other.md#a-code-title) '
                    '[web](https://example.org/x) [self](#top)\n# Top\n'
                    '```\n[in code](missing.md)\n```\n'
                    '[gone](missing.md) [bad anchor](other.md#nope)\n')
    assert broken_links(page) == [
        f'missing.md: no file {tmp_path / "missing.md"}',
        'other.md#nope: no heading #nope in other.md']
