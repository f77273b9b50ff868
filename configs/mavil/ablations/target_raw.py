# Table 4a, column "Raw": stage-2 iteration 1 ablates the reconstruction target; "Raw" is the
# stage-1 model itself (spectrogram / RGB targets, with both contrasts). Same run as ../stage1.py.
_base_ = ['../stage1.py']
