"""Target generators: forward(inputs, encoders) -> {modality: [B, N, out_dim]}.

They meet :class:`mavil.contracts.TargetGenerator`: ``out_dim(encoder)`` gives a modality's
target width (it sizes the decoder heads) and ``check_compatible(encoders)`` validates the
student's encoders at build time (e.g. the teacher's token grids must equal the student's).
"""
from .raw_targets import RawTargets
from .teacher_targets import TARGET_TYPES, FrozenTeacher, TeacherTargets

__all__ = ['RawTargets', 'TeacherTargets', 'FrozenTeacher', 'TARGET_TYPES']
