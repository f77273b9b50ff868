"""Weight files and their contents, below both ``mavil.engine`` and ``mavil.models``.

* :mod:`~mavil.weights.checkpoint_io`: ``.pth`` checkpoints, loaded weights-only and written
  atomically, with the position-table layouts they record;
* :mod:`~mavil.weights.safetensors_io`: ``.safetensors`` weights with their config as data;
* :mod:`~mavil.weights.matching`: a checkpoint's tensors against a model's (load reports,
  shape checks), pre-trained weights into fine-tuning models;
* :mod:`~mavil.weights.image_checkpoints`: image ViT checkpoints as video encoder
  initialisations (inflation, position-table check, where to download them);
* :mod:`~mavil.weights.converters`: public checkpoints (AudioMAE, av-superb) to our keys.

Nothing here imports ``mavil.models``, ``mavil.engine`` or ``mavil.apis``.
"""
