"""mavil: Masked Audio-Video Learners on MMEngine."""
__version__ = '0.1.0'
