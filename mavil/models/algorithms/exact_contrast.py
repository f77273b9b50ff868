"""Exact global-batch contrast under gradient accumulation (two passes, cached embedding grads).

With gradient accumulation, each micro-batch's InfoNCE would only see its own clips as
negatives (per-GPU batch x GPUs), so results would depend on the GPU count. Instead, one
optimizer step over the micro-batches of an accumulation group runs::

    pass 1  for each micro-batch, without gradient: preprocess, draw the step's masks, note the
            RNG state, encode; keep only the pooled embeddings [B, D]
    contrast over the concatenated embeddings of all micro-batches (gathered across ranks as
            usual): the InfoNCE losses and their gradients w.r.t. every embedding
    pass 2  for each micro-batch, with gradient: replay the same views (same masks, same RNG
            state, so the same drop-path draws), decode, compute targets once, then backward
            ``w_k * L_rec,k + <emb_k, dL_nce/demb_k>`` (w_k = B_k / B: rows of the accumulated
            batch), with DDP gradient sync only on the last micro-batch
    one optimizer step

The surrogate's gradient equals the gradient of ``sum_k w_k L_rec,k + L_nce(all rows)``, i.e.
of the big batch's loss, so the step equals one step on the whole accumulated batch (up to
floating-point summation order). Cost: one extra no-grad forward of the encoders. A stage-2
teacher runs in pass 2 only: once per clip.
"""
from collections import defaultdict
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Iterator, Optional

import torch
from torch import nn


@dataclass
class RNGState:
    """The global CPU generator's state and, on CUDA, that of the given device."""
    cpu: torch.Tensor
    device: torch.device
    cuda: Optional[torch.Tensor] = None

    @classmethod
    def capture(cls, device: torch.device) -> 'RNGState':
        device = torch.device(device)
        cuda = torch.cuda.get_rng_state(device) if device.type == 'cuda' else None
        return cls(cpu=torch.get_rng_state(), device=device, cuda=cuda)

    def restore(self) -> None:
        torch.set_rng_state(self.cpu)
        if self.cuda is not None:
            torch.cuda.set_rng_state(self.cuda, self.device)


@contextmanager
def replay_rng(state: RNGState) -> Iterator[None]:
    """Run the body with the generators set to ``state``; afterwards they continue from where
    they were before (the replayed draws are not drawn again by later code)."""
    outer = RNGState.capture(state.device)
    state.restore()
    try:
        yield
    finally:
        outer.restore()


@dataclass
class _MicroStep:
    """What pass 1 keeps of a micro-batch for pass 2."""
    inputs: dict[str, torch.Tensor]  # preprocessed, on the device
    data_samples: Optional[list]
    masks: object  # the model's StepMasks (``sample_masks``), replayed as drawn
    rng_state: RNGState  # before the encoders' first random draw
    rows: slice  # this micro-batch's rows in the concatenated embeddings


def _dot(emb: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """<emb, grad>: its gradient w.r.t. ``emb`` is ``grad`` (at least fp32, fp64 stays)."""
    dtype = torch.promote_types(torch.promote_types(emb.dtype, grad.dtype), torch.float32)
    return (emb.to(dtype) * grad.to(dtype)).sum()


def exact_contrast_step(model: nn.Module, micro_batches: list[dict], optim_wrapper, *,
                        ddp: Optional[nn.Module] = None) -> dict[str, torch.Tensor]:
    """One optimizer step of ``model`` (a MAViL) over ``micro_batches`` with the contrastive
    losses computed over all of them at once. ``ddp``: the distributed wrapper of ``model``
    (pass 2 runs through it; its gradient sync happens once, on the last micro-batch).
    Returns the log variables of the step, equal to those of the single big batch."""
    # micro-batches whose every clip was unreadable are left out (the skip hook counts them);
    # if all are, the preprocessor raises its error on the first
    usable = [b for b in micro_batches if b.get('inputs')] or list(micro_batches[:1])

    # ---- pass 1: masks, RNG states and embeddings, without gradient
    steps: list[_MicroStep] = []
    pooled: dict[str, list[torch.Tensor]] = defaultdict(list)
    start = 0
    for batch in usable:
        with optim_wrapper.optim_context(model):
            data = model.data_preprocessor(batch, training=True)
            inputs = data['inputs']
            size, device = inputs['audio'].shape[0], inputs['audio'].device
            masks = model.sample_masks(size, device)
            rng_state = RNGState.capture(device)
            with torch.no_grad():
                views = model.encode(inputs, masks)
        for name, emb in views.embeddings.items():
            pooled[name].append(emb)
        steps.append(_MicroStep(inputs, data.get('data_samples'), masks, rng_state,
                                slice(start, start + size)))
        start += size
    total_rows = start

    # ---- the contrast over the whole accumulated batch and its gradient w.r.t. embeddings
    embeddings = {name: torch.cat(parts).requires_grad_() for name, parts in pooled.items()}
    with optim_wrapper.optim_context(model):
        contrast = model.contrastive_losses(embeddings)
    names = list(embeddings) if contrast else []  # no contrastive loss: plain accumulation
    emb_grads = {}
    if names:
        contrast_total, _ = model.parse_losses(contrast)  # stops on a non-finite loss
        grads = torch.autograd.grad(contrast_total, [embeddings[n] for n in names],
                                    materialize_grads=True)
        emb_grads = dict(zip(names, grads))

    # ---- pass 2: replay each micro-batch with gradient; one DDP sync, one optimizer step
    forward = ddp if ddp is not None else model
    rec_logged: dict[str, torch.Tensor] = {}
    for i, step in enumerate(steps):
        weight = (step.rows.stop - step.rows.start) / total_rows
        last = i == len(steps) - 1
        with (ddp.no_sync() if ddp is not None and not last else nullcontext()):
            with optim_wrapper.optim_context(model):
                rec, replayed = forward(step.inputs, step.data_samples, mode='replay',
                                        masks=step.masks, rng_state=step.rng_state)
            rec_total, _ = model.parse_losses(rec)  # stops on a non-finite loss
            surrogate = weight * rec_total + sum(
                _dot(replayed[n], emb_grads[n][step.rows]) for n in names)
            optim_wrapper.backward(surrogate)
        for key, value in rec.items():
            rec_logged[key] = rec_logged.get(key, 0) + weight * value.detach()
    optim_wrapper.step()
    optim_wrapper.zero_grad()

    logged = dict(rec_logged)
    logged.update({k: v.detach() for k, v in contrast.items()})
    _, log_vars = model.parse_losses(logged)
    return log_vars
