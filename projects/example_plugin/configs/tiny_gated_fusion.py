# A laptop-CPU version of gated_fusion_stage1.py: the shipped tiny stage 1 (synthetic data,
# 30 iterations) with the gated fusion neck:
#   PYTHONPATH=projects/example_plugin python tools/train.py \
#       projects/example_plugin/configs/tiny_gated_fusion.py --work-dir work_dirs/tiny_gated
_base_ = ['../../../configs/mavil/stage1_tiny.py']
custom_imports = dict(imports=['example_plugin'], allow_failed_imports=False)

model = dict(fusion=dict(_delete_=True, type='GatedCrossFusion', depth=1, num_heads=4))
# No weight decay on the scalar gates (like the other 1-D parameters).
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'.gate_': dict(decay_mult=0.0)}))
