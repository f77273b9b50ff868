"""benchmarks/gpu_decode.py (the decoding step of benchmarks/gpu_check.sh) runs on a machine
without a GPU: the CPU row is timed and the CUDA row skipped, saying why."""
import pytest
import torch

from tests.datasets.media import backend_params

from .conftest import load_script


@pytest.mark.parametrize('backend', backend_params(['torchcodec']))
@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU path')
def test_cpu_row_and_cuda_skip(tmp_path, capsys, backend):
    benchmark = load_script('benchmarks/gpu_decode.py')
    out = tmp_path / 'decode_table.md'
    results = benchmark.main(['--sets', '96x64:16000:250', '--seconds', '5', '--files', '1',
                              '--clips', '2', '--warmup', '1', '--data-dir', str(tmp_path),
                              '--out', str(out)])
    assert results['skipped_cuda'].startswith('no CUDA device visible to torch')
    assert results['sets']['96x64']['cpu x1 ms'] > 0 and 'cuda ms' not in results['sets']['96x64']
    table = out.read_text()
    assert '| 96x64 | cpu x1 |' in table and '| cuda |' not in table
    assert 'cuda row skipped: no CUDA device' in table
    assert 'cuda row skipped' in capsys.readouterr().out


def test_torchcodec_missing_is_a_skip(monkeypatch, capsys):
    benchmark = load_script('benchmarks/gpu_decode.py')
    monkeypatch.setattr(benchmark, 'import_torchcodec',
                        lambda: (_ for _ in ()).throw(ImportError('no torchcodec here')))
    assert benchmark.main(['--clips', '1']) == dict(skipped='no torchcodec here')
    assert 'gpu_decode: skipped, no torchcodec here' in capsys.readouterr().out
