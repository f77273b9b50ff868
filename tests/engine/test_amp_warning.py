"""--amp on a CPU where bf16 measured no faster than fp32 warns once, quoting the probe."""
import logging

import pytest
import torch
from mmengine.logging import MMLogger

from mavil import hardware
from mavil.engine import optim_wrapper
from mavil.engine.optim_wrapper import AutocastOptimWrapper, slow_bf16_warning


@pytest.mark.parametrize('amx, speedup, warns', [(False, 0.84, True), (False, 0.1, True),
                                                  (False, 3.0, False), (True, 0.5, False)])
def test_warning_follows_the_measured_decision(monkeypatch, tmp_path, amx, speedup, warns):
    monkeypatch.setenv('MAVIL_CACHE_DIR', str(tmp_path))
    monkeypatch.setattr(hardware, '_probes', {})
    monkeypatch.setattr(hardware, 'cpu_has_amx', lambda: amx)
    monkeypatch.setattr(hardware, 'measure_bf16',
                        lambda: hardware.Bf16Probe(fp32_flops=100e9, bf16_flops=speedup * 100e9))
    message = slow_bf16_warning('cpu', torch.bfloat16)
    assert (message is not None) == warns
    assert hardware.bf16_is_faster('cpu') == (not warns)  # one decision for teacher and --amp
    if warns:
        assert f'{speedup:.2f}x the fp32 speed' in message
    assert slow_bf16_warning('cuda', torch.bfloat16) is None
    assert slow_bf16_warning('cpu', torch.float16) is None


def test_wrapper_warns_once_at_first_step(monkeypatch, caplog):
    calls = []
    monkeypatch.setattr(optim_wrapper, 'slow_bf16_warning',
                        lambda device, dtype: calls.append((device, dtype)) or 'bf16 is slow')
    model = torch.nn.Linear(4, 4)
    wrapper = AutocastOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    logger = MMLogger.get_instance('test_amp_warning')
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        for _ in range(2):
            with wrapper.optim_context(model):
                out = model(torch.randn(2, 4))
            assert out.dtype == torch.bfloat16
    finally:
        logger.removeHandler(handler)
    assert calls == [('cpu', torch.bfloat16)]
    assert [r.getMessage() for r in records if r.levelno == logging.WARNING] == ['bf16 is slow']
