"""DACS self-training wrapper of DAFormer (spec §5): student, EMA teacher and frozen ImageNet model.

The hyper-parameters keep the reference names so a published ``uda`` config translates line by line.
"""
from typing import Optional, Sequence

from mmseg.registry import MODELS
from .uda_decorator import UDADecorator

MIX_MODES = ('class', )


@MODELS.register_module()
class DACS(UDADecorator):
    """Args (reference names and defaults of ``configs/_base_/uda/dacs.py``):
        alpha: EMA teacher momentum.
        pseudo_threshold: confidence threshold of the pseudo-label weight.
        pseudo_weight_ignore_top / _bottom: image rows given weight 0 in the pseudo-label weight.
        imnet_feature_dist_lambda: weight of the ImageNet feature distance; > 0 builds ``imnet_model``.
        imnet_feature_dist_classes: classes whose features are regularised (None: all).
        imnet_feature_dist_scale_min_ratio: min class ratio of a feature cell's label patch.
        mix: ``'class'`` (ClassMix).
        blur, color_jitter_strength, color_jitter_probability: strong augmentation of the mixed image.
        debug_img_interval: iterations between debug images.
        print_grad_magnitude: log the gradient magnitude of each loss.
    """

    def __init__(self, model: dict, max_iters: Optional[int] = None, alpha: float = 0.99,
                 pseudo_threshold: float = 0.968, pseudo_weight_ignore_top: int = 0,
                 pseudo_weight_ignore_bottom: int = 0, imnet_feature_dist_lambda: float = 0.,
                 imnet_feature_dist_classes: Optional[Sequence[int]] = None,
                 imnet_feature_dist_scale_min_ratio: Optional[float] = None, mix: str = 'class',
                 blur: bool = True, color_jitter_strength: float = 0.2, color_jitter_probability: float = 0.2,
                 debug_img_interval: int = 1000, print_grad_magnitude: bool = False, **kwargs):
        super().__init__(model=model, max_iters=max_iters, **kwargs)
        if mix not in MIX_MODES:
            raise ValueError(f'DACS mix={mix!r}; expected one of {MIX_MODES}')
        if not 0. <= alpha < 1.:
            raise ValueError(f'DACS alpha={alpha}; expected 0 <= alpha < 1')
        self.alpha = alpha
        self.pseudo_threshold = pseudo_threshold
        self.psweight_ignore_top = pseudo_weight_ignore_top
        self.psweight_ignore_bottom = pseudo_weight_ignore_bottom
        self.fdist_lambda = imnet_feature_dist_lambda
        self.fdist_classes = list(imnet_feature_dist_classes) if imnet_feature_dist_classes is not None else None
        self.fdist_scale_min_ratio = imnet_feature_dist_scale_min_ratio
        self.enable_fdist = imnet_feature_dist_lambda > 0
        self.mix = mix
        self.blur = blur
        self.color_jitter_s = color_jitter_strength
        self.color_jitter_p = color_jitter_probability
        self.debug_img_interval = debug_img_interval
        self.print_grad_magnitude = print_grad_magnitude
        self.local_iter = 0
        self.ema_model = self.build_segmentor_copy()
        self.imnet_model = self.build_segmentor_copy() if self.enable_fdist else None
