"""Weight initialisers shared by the components."""
from torch import nn


def init_mae_weights(module: nn.Module) -> None:
    """MAE initialisation: xavier-uniform linears (zero bias), unit LayerNorms."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
