"""Entry points for scripts and notebooks."""
