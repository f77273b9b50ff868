"""The base of every training model of the project: a non-finite loss stops the run before
the optimizer touches the weights (no all-NaN checkpoint is ever saved)."""
import torch
import torch.distributed as dist
from mmengine.logging import MessageHub
from mmengine.model import BaseModel


def _any_rank(flag: bool, device: torch.device) -> bool:
    """True if ``flag`` is True on any process (every process must call this)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return flag
    if dist.get_backend() == 'nccl' and device.type != 'cuda':
        device = torch.device('cuda', torch.cuda.current_device())
    tensor = torch.tensor([float(flag)], device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


class FiniteLossModel(BaseModel):
    """``BaseModel`` whose ``parse_losses`` raises ``FloatingPointError`` on a NaN / inf total
    loss, naming the training step and every term. ``parse_losses`` runs between forward and
    backward, so nothing is updated. Under DDP all processes agree (one scalar all-reduce), so
    a NaN on one rank stops every rank at the same step instead of leaving the others waiting
    in the gradient all-reduce."""

    def parse_losses(self, losses: dict) -> tuple[torch.Tensor, dict]:
        loss, log_vars = super().parse_losses(losses)
        local_bad = not bool(torch.isfinite(loss))
        if _any_rank(local_bad, loss.device):
            terms = {k: float(v) for k, v in log_vars.items()}
            step = MessageHub.get_current_instance().get_info('iter')
            step = 'unknown' if step is None else step + 1
            where = 'here' if local_bad else 'on another process'
            raise FloatingPointError(
                f'non-finite loss at training step {step}: {terms}; stopped before the update '
                f'({where}). Lower the learning rate, check the data, or use bf16 rather '
                'than fp16.')
        return loss, log_vars
