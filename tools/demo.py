#!/usr/bin/env python
"""The MAViL demo (what `make demo` runs): built-in data; MAE-only baseline, tiny stage 1 and
one stage-2 iteration on CPU for 2 model seeds; retrieval / linear-probe report (mean +-
spread), report.png, loss_curve.png, reconstruction.png. See mavil/demo/run.py for the phases.

    python tools/demo.py [--data-kind melody|category] [--work-dir work_dirs/demo]
                         [--data-root data/demo] [--seeds 0 1]
                         [--sequential] [--no-mae-only] [--no-stage2] [--stage1-iters N]
                         [--stage2-iters N] [--cfg-options k=v ...] [--stage2-options k=v ...]
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mavil.demo.run import main  # noqa: E402

if __name__ == '__main__':
    main()
