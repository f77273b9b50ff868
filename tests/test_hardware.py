"""The bf16-vs-fp32 decision: AMX / CUDA, else a measured probe cached per machine."""
import json

import pytest
import torch

from mavil import hardware


def probe(speedup: float) -> hardware.Bf16Probe:
    return hardware.Bf16Probe(fp32_flops=100e9, bf16_flops=speedup * 100e9)


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """An empty in-process cache and a cache file under tmp_path; no AMX."""
    monkeypatch.setenv('MAVIL_CACHE_DIR', str(tmp_path))
    monkeypatch.setattr(hardware, '_probes', {})
    monkeypatch.setattr(hardware, 'cpu_has_amx', lambda: False)
    return tmp_path


def counting(monkeypatch, speedup: float) -> list:
    calls = []
    monkeypatch.setattr(hardware, 'measure_bf16', lambda: calls.append(1) or probe(speedup))
    return calls


@pytest.mark.parametrize('speedup, faster', [(4.0, True), (1.25, True), (1.1, False),
                                             (0.84, False), (0.1, False)])
def test_decision_follows_the_measured_ratio(fresh, monkeypatch, speedup, faster):
    counting(monkeypatch, speedup)
    assert hardware.bf16_is_faster('cpu') is faster
    assert hardware.bf16_probe().speedup == pytest.approx(speedup)


def test_amx_needs_no_probe(fresh, monkeypatch):
    monkeypatch.setattr(hardware, 'cpu_has_amx', lambda: True)
    monkeypatch.setattr(hardware, 'measure_bf16', lambda: pytest.fail('probed with AMX'))
    assert hardware.bf16_is_faster('cpu')


@pytest.mark.parametrize('bf16_supported', [True, False])
def test_cuda_asks_the_gpu_not_the_probe(fresh, monkeypatch, bf16_supported):
    monkeypatch.setattr(hardware, 'measure_bf16', lambda: pytest.fail('probed for CUDA'))
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: bf16_supported)
    assert hardware.bf16_is_faster('cuda') is bf16_supported
    assert not hardware.bf16_is_faster('mps')


def test_probe_cached_in_process_and_in_the_file(fresh, monkeypatch):
    calls = counting(monkeypatch, 0.5)
    assert not hardware.bf16_is_faster('cpu')
    assert not hardware.bf16_is_faster('cpu')
    assert len(calls) == 1  # in-process
    stored = json.loads((fresh / hardware.CACHE_FILE).read_text())
    entry = stored[hardware.machine_key()]
    assert entry['bf16_flops'] / entry['fp32_flops'] == pytest.approx(0.5)
    hardware.clear_cache()  # a new process on the same machine: reads the file
    counting(monkeypatch, 9.0)
    assert not hardware.bf16_is_faster('cpu')
    # another torch version (or CPU) is another key: measured again, both kept
    monkeypatch.setattr(torch, '__version__', '0.0.0-other')
    hardware.clear_cache()
    calls = counting(monkeypatch, 9.0)
    assert hardware.bf16_is_faster('cpu')
    assert len(calls) == 1
    assert len(json.loads((fresh / hardware.CACHE_FILE).read_text())) == 2


@pytest.mark.parametrize('content', ['{not json', '[]', '{"KEY": {"fp32_flops": "x"}}',
                                     '{"KEY": {"fp32_flops": 0, "bf16_flops": 1}}'])
def test_unusable_cache_is_measured_again_and_rewritten(fresh, monkeypatch, content):
    (fresh / hardware.CACHE_FILE).write_text(content.replace('KEY', hardware.machine_key()))
    calls = counting(monkeypatch, 2.0)
    assert hardware.bf16_is_faster('cpu')
    assert len(calls) == 1
    stored = json.loads((fresh / hardware.CACHE_FILE).read_text())
    assert stored[hardware.machine_key()]['bf16_flops'] == pytest.approx(200e9)


def test_unwritable_cache_dir_still_decides(monkeypatch, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    monkeypatch.setenv('MAVIL_CACHE_DIR', str(blocker / 'sub'))  # a file in the way
    monkeypatch.setattr(hardware, '_probes', {})
    monkeypatch.setattr(hardware, 'cpu_has_amx', lambda: False)
    calls = counting(monkeypatch, 0.5)
    assert not hardware.bf16_is_faster('cpu')
    assert not hardware.bf16_is_faster('cpu')
    assert len(calls) == 1


def test_real_probe_measures_both_and_restores_threads():
    threads = torch.get_num_threads()
    result = hardware.measure_bf16(size=64, repeats=1, min_seconds=0.001)
    assert result.fp32_flops > 0 and result.bf16_flops > 0
    assert torch.get_num_threads() == threads


def test_machine_key_names_cpu_and_torch():
    key = hardware.machine_key()
    assert torch.__version__ in key and hardware.cpu_model() in key
