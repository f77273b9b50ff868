"""Checkpoints by URL (mavil/download.py) against a local HTTP server: a good file is cached
in torch.hub's folder and fetched once; a wrong hash, a truncated body, a server error or no
server at all each fail with a message naming the URL, and leave no file behind."""
import hashlib
import os

import pytest

from mavil import download
from mavil.download import DownloadError, cache_path, cached_file, is_url
from tests.helpers import closed_port, serve

BODY = os.urandom(3 * (1 << 20) + 123)  # more than one read chunk
SHA = hashlib.sha256(BODY).hexdigest()


@pytest.fixture(autouse=True)
def hub_dir(tmp_path, monkeypatch):
    """torch.hub's cache under tmp_path ($TORCH_HOME/hub/checkpoints)."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    return tmp_path / 'torch' / 'hub' / 'checkpoints'


def leftovers(folder) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_good_file_is_downloaded_once_into_the_hub_cache(hub_dir):
    with serve({'/w/mae.pth': BODY}) as server:
        url = server['url'] + '/w/mae.pth'
        path = cached_file(url, sha256=SHA, progress=False)
        assert path == str(hub_dir / 'mae.pth') == cache_path(url)
        with open(path, 'rb') as f:
            assert f.read() == BODY
        assert cached_file(url, sha256=SHA.upper(), progress=False) == path  # from the cache
        assert server['hits']['/w/mae.pth'] == 1
    assert leftovers(hub_dir) == ['mae.pth']


def test_without_a_hash_the_computed_one_is_reported(hub_dir, monkeypatch):
    logged = []
    monkeypatch.setattr(download, 'print_log', lambda msg, **kwargs: logged.append(msg))
    with serve({'/mae.pth': BODY}) as server:
        path = cached_file(server['url'] + '/mae.pth', progress=False)
    assert open(path, 'rb').read() == BODY
    assert len(logged) == 1 and f"sha256='{SHA}'" in logged[0]


def test_wrong_hash_keeps_nothing(hub_dir):
    wrong = hashlib.sha256(b'other').hexdigest()
    with serve({'/mae.pth': BODY}) as server:
        url = server['url'] + '/mae.pth'
        with pytest.raises(DownloadError, match=rf'{url} has SHA-256 {SHA}, expected {wrong}'):
            cached_file(url, sha256=wrong, progress=False)
    assert leftovers(hub_dir) == []


def test_truncated_download_keeps_nothing(hub_dir):
    with serve({'/mae.pth': BODY}, truncate=['/mae.pth']) as server:
        url = server['url'] + '/mae.pth'
        with pytest.raises(DownloadError, match=rf'{url} ended after {len(BODY) // 2} of '
                                                rf'{len(BODY)} bytes'):
            cached_file(url, progress=False)  # no hash given: the length still catches it
    assert leftovers(hub_dir) == []


def test_server_down_names_the_url_and_the_way_round(hub_dir):
    url = f'http://127.0.0.1:{closed_port()}/mae.pth'
    with pytest.raises(DownloadError, match=r'cannot download .*/mae.pth: .*refused.*'
                                            r'download it elsewhere to .*mae.pth'):
        cached_file(url, sha256=SHA, progress=False)
    assert leftovers(hub_dir) == []


def test_missing_file_on_the_server(hub_dir):
    with serve({}) as server:
        with pytest.raises(DownloadError, match='answered 404'):
            cached_file(server['url'] + '/gone.pth', progress=False)
    assert leftovers(hub_dir) == []


def test_a_cached_file_that_differs_from_the_hash_is_reported(hub_dir):
    hub_dir.mkdir(parents=True)
    (hub_dir / 'mae.pth').write_bytes(b'not the weights')
    with pytest.raises(DownloadError, match=r'mae.pth \(cached download of .*\) has SHA-256 .*'
                                            r'delete the file'):
        cached_file('http://127.0.0.1:1/mae.pth', sha256=SHA, progress=False)


def test_local_paths_pass_through(tmp_path):
    assert not is_url('checkpoints/mae.pth') and is_url('https://host/mae.pth')
    assert cached_file('checkpoints/mae.pth', sha256=SHA) == 'checkpoints/mae.pth'
