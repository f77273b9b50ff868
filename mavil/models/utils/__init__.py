"""Fine-tuning masking."""
from .ft_masking import FinetuneMasking, slot_drop_mask

__all__ = ['FinetuneMasking', 'slot_drop_mask']
