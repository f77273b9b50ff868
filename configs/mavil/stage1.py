# MAViL stage 1 (Sec. 3.1-3.2, Eq. 4): raw audio-video reconstruction + inter/intra contrast.
_base_ = [
    '../_base_/models/mavil_vit_base.py',
    '../_base_/datasets/audioset_pretrain.py',
    '../_base_/schedules/pretrain_20e.py',
    '../_base_/default_runtime.py',
]
