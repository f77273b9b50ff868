"""The built-in demo: generated audio-video clips, tiny pre-training on CPU, and its report.

* :mod:`mavil.demo.generator`: the demo dataset (``python -m mavil.demo.generator``).
* :mod:`mavil.demo.evaluate`: retrieval and linear-probe evaluation of embeddings.
* :mod:`mavil.demo.run`: the phases of ``make demo`` (``tools/demo.py``).
"""
