"""DDB's segmentor (``UDAEncoderDecoder``): an :class:`EncoderDecoder` whose ``encode_decode`` can also return the
decode head's feature map, the feature of DDB's class prototypes (spec ebda-cdda-ddb §3.2, §3.5, §3.6)."""
from typing import List, Optional, Tuple, Union

import torch

from mmseg.registry import MODELS
from ..utils.resize import resize
from .encoder_decoder import EncoderDecoder


@MODELS.register_module()
class UDAEncoderDecoder(EncoderDecoder):
    """Args as :class:`EncoderDecoder`; ``return_feature`` needs a head that returns its feature
    (``returns_feature``, e.g. ``DLV2AdapterHead``)."""

    def encode_decode(self, img: torch.Tensor, img_metas: Optional[List[dict]] = None, upscale_pred: bool = True,
                      return_feature: bool = False) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Logits, and with ``return_feature`` the head's feature map; both bilinearly resized to the input size
        unless ``upscale_pred=False``."""
        if not return_feature:
            return super().encode_decode(img, img_metas, upscale_pred)
        if not getattr(self.decode_head, 'returns_feature', False):
            raise TypeError(f'UDAEncoderDecoder.encode_decode(return_feature=True) needs a decode head that returns '
                            f'its feature map (DLV2AdapterHead); this model has {type(self.decode_head).__name__}')
        logits, feature = self.decode_head.forward(self.extract_feat(img), return_feature=True)
        if upscale_pred:
            logits = resize(logits, size=img.shape[2:], mode='bilinear', align_corners=self.align_corners)
            feature = resize(feature, size=img.shape[2:], mode='bilinear', align_corners=self.align_corners)
        return logits, feature
