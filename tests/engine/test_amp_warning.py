"""--amp on a CPU that emulates bf16 warns once, quoting the measured slowdown."""
import logging

import pytest
import torch
from mmengine.logging import MMLogger

from mavil.analysis import throughput
from mavil.engine import optim_wrapper
from mavil.engine.optim_wrapper import AutocastOptimWrapper, slow_bf16_warning
from mavil.models.targets import teacher_targets


def test_probe_measures_a_ratio():
    ratio = throughput.bf16_matmul_slowdown(size=64, repeats=1)
    assert ratio > 0 and ratio == ratio


@pytest.mark.parametrize('fast, slowdown, warns', [(False, 6.3, True), (False, 0.9, False),
                                                   (True, 6.3, False)])
def test_warning_depends_on_cpu_and_probe(monkeypatch, fast, slowdown, warns):
    monkeypatch.setattr(teacher_targets, 'cpu_has_fast_bf16', lambda: fast)
    monkeypatch.setattr(throughput, 'bf16_matmul_slowdown', lambda: slowdown)
    message = slow_bf16_warning('cpu', torch.bfloat16)
    assert (message is not None) == warns
    if warns:
        assert '6.3x SLOWER' in message
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
