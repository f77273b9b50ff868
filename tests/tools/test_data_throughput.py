"""benchmarks/data_throughput.py runs end to end (tiny files) and times every reader."""
from .conftest import load_script


def test_benchmark_smoke(tmp_path, capsys):
    benchmark = load_script('benchmarks/data_throughput.py')
    results = benchmark.main(['--sets', '96x64:22050:250', '--seconds', '2', '--files', '1',
                              '--clips', '2', '--warmup', '0', '--preset', 'ultrafast',
                              '--data-dir', str(tmp_path), '--json'])
    rates = results['96x64:22050:250']['clips_per_s_cpu']
    assert set(rates) == {'decord', 'pyav', 'naive'} and all(r > 0 for r in rates.values())
    stages = results['96x64:22050:250']['stages_ms']
    assert {'LoadAudioVideo', '  read frames', 'KaldiFbank', 'VideoRandomResizedCrop'} <= set(
        stages)
    out = capsys.readouterr().out
    assert 'clips/s per worker (CPU)' in out
