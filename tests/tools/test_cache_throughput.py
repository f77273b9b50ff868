"""benchmarks/cache_throughput.py runs end to end (tiny files) and times every row alike."""
import pytest

from .conftest import load_script


def test_cache_benchmark_smoke(tmp_path, capsys):
    benchmark = load_script('benchmarks/cache_throughput.py')
    results = benchmark.main(['--set', '96x64:22050:250', '--seconds', '2', '--files', '2',
                              '--clips', '2', '--preset', 'ultrafast',
                              '--data-dir', str(tmp_path), '--build-backends', 'pyav',
                              'decord'])
    rows = results['rows']
    assert set(rows['clips_per_s_cpu']) == set(benchmark.ROWS)
    assert all(r > 0 for r in rows['clips_per_s_cpu'].values())
    assert rows['ratios']['cache / jpeg_wav'] == pytest.approx(
        rows['clips_per_s_cpu']['cache'] / rows['clips_per_s_cpu']['jpeg_wav'])
    # the fbank cache computes no fbank per sample; the PCM cache and the wav layout do
    fbank_ms = rows['stages_ms']['KaldiFbank']
    assert fbank_ms['cache'] < 0.2 * fbank_ms['cache_pcm']
    builds = results['builds']
    assert builds['cache']['audio'] == 'fbank16' and builds['cache_pcm']['audio'] == 'pcm16'
    assert all(b['bytes_per_clip'] > 0 for b in builds.values())
    assert results['shapes'] == {'audio': (1, 1024, 128), 'video': (3, 8, 224, 224)}
    assert set(results['build_backends']) == {'pyav', 'decord'}
    assert all(len(r) == 2 and min(r) > 0 for r in results['build_backends'].values())
    assert 'cache / pyav' in capsys.readouterr().out
