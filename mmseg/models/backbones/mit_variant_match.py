"""Which MiT variant a state dict is, and how it differs from the closest one."""
from typing import Dict, List, NamedTuple

import torch

from .mix_transformer import MIT_VARIANTS
from mmseg.registry import MODELS


class VariantMatch(NamedTuple):
    """Comparison of a state dict with one MiT variant (the 1000-class ``head.*`` is ignored)."""
    variant: str
    missing: List[str]
    unexpected: List[str]
    wrong_shape: List[str]

    @property
    def exact(self) -> bool:
        return not (self.missing or self.unexpected or self.wrong_shape)

    @property
    def num_differences(self) -> int:
        return len(self.missing) + len(self.unexpected) + len(self.wrong_shape)


def mit_variant_shapes(variant: str) -> Dict[str, tuple]:
    """Key → shape of a variant's state dict, built on the meta device (no memory, no init cost)."""
    with torch.device('meta'):
        model = MODELS.build(dict(type=variant))
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def match_mit_variants(state_dict: Dict[str, torch.Tensor]) -> List[VariantMatch]:
    """Compare with every variant, best match first."""
    weights = {k: tuple(v.shape) for k, v in state_dict.items() if not k.startswith('head.')}
    matches = []
    for variant in MIT_VARIANTS:
        expected = mit_variant_shapes(variant)
        matches.append(VariantMatch(
            variant=variant,
            missing=sorted(set(expected) - set(weights)),
            unexpected=sorted(set(weights) - set(expected)),
            wrong_shape=sorted(k for k in set(expected) & set(weights) if expected[k] != weights[k])))
    return sorted(matches, key=lambda m: m.num_differences)
