# MAViL stage 1 (ViT-B) with the plugin's GatedCrossFusion instead of the vanilla fusion.
# Run from the repository root with the plugin importable:
#   PYTHONPATH=projects/example_plugin python tools/train.py \
#       projects/example_plugin/configs/gated_fusion_stage1.py
_base_ = ['../../../configs/mavil/stage1.py']

# Imported when the config is loaded; the import registers GatedCrossFusion into mavil's MODELS.
custom_imports = dict(imports=['example_plugin'], allow_failed_imports=False)

model = dict(
    fusion=dict(
        _delete_=True,  # another component: do not inherit JointFusion's keys
        type='GatedCrossFusion',
        depth=2,
        num_heads=12))
# No weight decay on the scalar gates (like the other 1-D parameters).
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'.gate_': dict(decay_mult=0.0)}))
