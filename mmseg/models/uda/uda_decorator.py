"""Base of the UDA training wrappers: owns the student segmentor and delegates inference to it.

The wrapper's state dict uses the reference prefixes (``model.``, and in subclasses ``ema_model.``,
``imnet_model.``), so full training checkpoints keep the reference layout (spec §1.5). Test-time
calls go to the student, which is what the reference evaluates (spec §13.5).
"""
import copy
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.model import BaseModel

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from ..segmentors.encoder_decoder import build_data_preprocessor


class UDADecorator(BaseModel):
    """Args: ``model``, the segmentor config shared by student and copies; ``max_iters``, the schedule
    length. Subclasses define ``train_step`` (one adaptation iteration) and may keep the student under another
    attribute name (``STUDENT``, the prefix of its checkpoint keys; DDB's CKD: ``stu_model``)."""

    STUDENT = 'model'

    def __init__(self, model: dict, max_iters: Optional[int] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            data_preprocessor = copy.deepcopy(model.get('data_preprocessor'))
        super().__init__(data_preprocessor=build_data_preprocessor(data_preprocessor), init_cfg=init_cfg)
        self.model_cfg = copy.deepcopy(model)
        setattr(self, self.STUDENT, MODELS.build(copy.deepcopy(model)))
        self.max_iters = max_iters
        self.num_classes = self.get_model().num_classes

    def build_segmentor_copy(self) -> torch.nn.Module:
        """A new segmentor from the same config (teacher, ImageNet model, ...)."""
        return MODELS.build(copy.deepcopy(self.model_cfg))

    def get_model(self) -> torch.nn.Module:
        """The student segmentor."""
        return getattr(self, self.STUDENT)

    def extract_feat(self, img: torch.Tensor) -> List[torch.Tensor]:
        return self.get_model().extract_feat(img)

    def encode_decode(self, img: torch.Tensor, img_metas: Optional[List[dict]] = None) -> torch.Tensor:
        return self.get_model().encode_decode(img, img_metas)

    def inference(self, img: torch.Tensor, img_metas: List[dict], rescale: bool = True) -> torch.Tensor:
        return self.get_model().inference(img, img_metas, rescale)

    def simple_test(self, img: torch.Tensor, img_metas: Optional[List[dict]] = None,
                    rescale: bool = True) -> torch.Tensor:
        return self.get_model().simple_test(img, img_metas, rescale)

    def forward(self, inputs: torch.Tensor, data_samples: Optional[Sequence[SegDataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            raise ValueError(f'{type(self).__name__} trains through train_step(), not forward(mode="loss")')
        return self.get_model()(inputs, data_samples, mode)

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, torch.Tensor]:
        raise NotImplementedError(f'{type(self).__name__} must define train_step (one adaptation iteration)')
