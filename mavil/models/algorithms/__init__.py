from .mavil import MAViL, mean_pool

__all__ = ['MAViL', 'mean_pool']
