"""CUDA-only checks (benchmarks/gpu_check.sh runs them on a GPU machine; skipped elsewhere):
xformers attention equals SDPA (forward and backward), a bf16 autocast training step of the
tiny MAViL, and a one-process NCCL group (init, all-reduce, autograd all-gather)."""
import os
import socket
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mavil.registry import MODELS

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
TINY_CFG = Path(__file__).resolve().parents[2] / 'tests' / 'fixtures' / 'configs' / 'tiny_stage1.py'


def test_xformers_attention_equals_sdpa_forward_and_backward():
    from mavil.models.layers import Attention
    try:
        xf = Attention(64, 4, backend='xformers').cuda()
    except RuntimeError as err:  # not importable / kernels built for another torch
        pytest.fail(f'xformers unusable on this GPU machine: {err}')
    ref = Attention(64, 4, backend='sdpa').cuda()
    ref.load_state_dict(xf.state_dict())
    x = torch.randn(2, 157, 64, device='cuda', requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    out, out_ref = xf(x), ref(x_ref)
    torch.testing.assert_close(out, out_ref, atol=2e-4, rtol=2e-4)
    out.square().sum().backward()
    out_ref.square().sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, atol=1e-3, rtol=1e-3)
    for (name, p), p_ref in zip(xf.named_parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, p_ref.grad, atol=1e-3, rtol=1e-3, msg=name)


def test_bf16_autocast_training_step():
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(TINY_CFG)).model).cuda().train()
    inputs = {'audio': torch.randn(4, 1, 64, 32, device='cuda'),
              'video': torch.randn(4, 3, 4, 32, 32, device='cuda')}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)
    before = [p.detach().clone() for p in model.parameters()]
    with torch.autocast('cuda', dtype=torch.bfloat16):
        losses = model.loss(inputs)
    assert losses['loss_rec_video'].dtype == torch.float32  # MSE computed in fp32
    loss, _ = model.parse_losses(losses)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    optimizer.step()
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))


def test_nccl_one_process_group():
    import torch.distributed as dist
    import torch.distributed.nn.functional as dist_nn
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    dist.init_process_group('nccl', init_method=f'tcp://127.0.0.1:{port}', rank=0,
                            world_size=1)
    try:
        assert dist.get_backend() == 'nccl'
        x = torch.arange(4.0, device='cuda', requires_grad=True)
        y = x.detach().clone()
        dist.all_reduce(y)
        torch.testing.assert_close(y, x.detach())
        gathered = dist_nn.all_gather(x)  # autograd-aware, as the global-batch contrast uses
        torch.cat(gathered).sum().backward()
        torch.testing.assert_close(x.grad, torch.ones(4, device='cuda'))
    finally:
        dist.destroy_process_group()
