"""Audio-to-video retrieval (Sec. 4.5, Table 8) with MAViL's aligned uni-modal embeddings.

Retrieval fine-tuning trains the whole MAViL on the retrieval set's audio-video pairs with the
pre-training objective (Eq. 6 with a stage-2 teacher's targets, or Eq. 4 with raw targets),
so ``AVRetriever`` IS a :class:`MAViL` (same modules, same ``loss``; a MAViL checkpoint loads
as is). It differs in what it predicts: full-view (unmasked) embeddings
``a_emb = Avg(f_a(a))`` and ``v_emb = Avg(f_v(v))`` (the vectors of the inter-modal contrast,
footnote 1), ranked by cosine similarity in :class:`mavil.evaluation.RetrievalRecall`.
A video may come as N clips ``[B, N, 3, T, H, W]``; its embedding is then the mean of the
clips' embeddings.
"""
import torch

from mavil.registry import MODELS
from .mavil import MAViL, mean_pool


@MODELS.register_module()
class AVRetriever(MAViL):
    """MAViL whose ``predict`` sets ``audio_embedding`` / ``video_embedding`` [D] per sample
    (multi-clip videos averaged). Arguments as :class:`MAViL`."""

    @torch.no_grad()
    def extract_feat(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        feats = {}
        if 'audio' in inputs:
            feats['audio'] = mean_pool(self.audio_encoder(inputs['audio'], masked=False)[0])
        if 'video' in inputs:
            video = inputs['video']
            if video.dim() not in (5, 6):
                raise ValueError(f'video must be [B, 3, T, H, W] or [B, N, 3, T, H, W], got '
                                 f'{list(video.shape)}')
            num_clips = video.shape[1] if video.dim() == 6 else 1
            emb = mean_pool(self.video_encoder(video.flatten(0, video.dim() - 5),
                                               masked=False)[0])
            feats['video'] = emb.view(-1, num_clips, emb.shape[-1]).mean(dim=1)
        return feats
