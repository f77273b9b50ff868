"""Audio-to-video retrieval (Sec. 4.5, Table 8) with MAViL's aligned uni-modal embeddings.

Retrieval fine-tuning trains the whole MAViL on the retrieval set's audio-video pairs with the
pre-training objective (Eq. 6 with a stage-2 teacher's targets, or Eq. 4 with raw targets),
so ``AVRetriever`` IS a :class:`MAViL` (same modules, same ``loss``; a MAViL checkpoint loads
as is), and so is what it predicts: full-view (unmasked) embeddings ``a_emb = Avg(f_a(a))``
and ``v_emb = Avg(f_v(v))`` (the vectors of the inter-modal contrast, footnote 1), ranked by
cosine similarity in :class:`mavil.evaluation.RetrievalRecall`. A video may come as N clips
``[B, N, 3, T, H, W]``; its embedding is then the mean of the clips' embeddings. The class
names the task in configs.
"""
from mavil.registry import MODELS
from .mavil import MAViL


@MODELS.register_module()
class AVRetriever(MAViL):
    """MAViL whose ``predict`` sets ``audio_embedding`` / ``video_embedding`` [D] per sample
    (multi-clip videos averaged, :meth:`MAViL.extract_feat`). Arguments as :class:`MAViL`."""
