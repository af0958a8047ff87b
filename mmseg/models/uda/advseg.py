"""AdvSeg (after AdaptSegNet): adversarial alignment of the output space (spec §7, MIC ``advseg.py``).

A fully convolutional discriminator per output (``model_D.main``) learns to tell the softmax maps of
source (label 0) from target (label 1) predictions; the segmentor is trained to make target maps look
like source ones. Step order of one iteration (the reference's):

1. freeze the discriminators;
2. source: supervised loss; backward;
3. target: ``G_trg.loss.main`` = ``lambda_adv_target['main']`` x loss(D(softmax(pred_trg)), 0); backward;
4. MIC masked loss (when on); backward;
5. unfreeze the discriminators;
6. ``D_src.loss.main`` = loss(D(softmax(pred_src.detach())), 0) / 2 and ``D_trg.loss.main`` =
   loss(D(softmax(pred_trg.detach())), 1) / 2, each back-propagated;
7. step the segmentor optimiser, then the discriminator optimiser (Adam, lr ``lr_D``, betas (0.9, 0.99),
   poly schedule ``(lr_D - lr_D_min)·(1 - t/max_iters)^lr_D_power + lr_D_min``).

The loss is the least-squares GAN's MSE (``discriminator_type='LS'``) or BCE on logits ('Vanilla').

Two optimisers: ``train_step`` takes an mmengine ``OptimWrapperDict`` with a ``segmentor`` and a
``discriminator`` wrapper (built by ``AdversarialOptimWrapperConstructor``; :meth:`AdvSeg.split_optimizers`
turns a config's single optimiser and schedule into both, as ``tools/train.py`` does), so checkpoints
and resume carry both optimisers and both schedules. Reference quirk, reproduced by default: the
reference's runner builds the segmentor optimiser (SGD) over the whole AdvSeg module, so it also steps
the discriminators (with their D-loss gradients, before Adam does); ``discriminator_in_segmentor_optimizer
=False`` leaves them to Adam alone.
"""
import copy
from typing import Dict, List, Optional

import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapperDict
from torch import Tensor, nn

from mmseg.registry import MODELS
from .output_space_uda import DebugGrid, OutputSpaceUDA, check_output_weights, softmax

SOURCE_LABEL, TARGET_LABEL = 0., 1.
DISCRIMINATOR_LOSSES = {'LS': F.mse_loss, 'Vanilla': F.binary_cross_entropy_with_logits}
# The two wrappers of the OptimWrapperDict and the attribute that holds the discriminators.
SEGMENTOR, DISCRIMINATOR, DISCRIMINATOR_MODULE = 'segmentor', 'discriminator', 'model_D'
# Reference defaults (configs/_base_/uda/advseg.py).
DEFAULT_LR_D, DEFAULT_LR_D_POWER, DEFAULT_LR_D_MIN = 1e-4, 0.9, 0.
DISCRIMINATOR_BETAS = (0.9, 0.99)


@MODELS.register_module()
class AdvSeg(OutputSpaceUDA):
    """Args (reference names and defaults; the rest as :class:`OutputSpaceUDA`):
        discriminator_type: 'LS' (MSE) or 'Vanilla' (BCE with logits).
        lr_D, lr_D_power, lr_D_min: Adam learning rate of the discriminators and its poly schedule
            (used by :meth:`split_optimizers`).
        lambda_adv_target: weight of the generator loss per output (``main``; ``aux`` for an auxiliary head,
            which no segmentor here has).
        discriminator: config of each discriminator (``num_classes`` is the segmentor's).
        discriminator_in_segmentor_optimizer: the reference quirk (see the module docstring); the
            optimisers given to ``train_step`` must match it.
    """

    def __init__(self, model: dict, max_iters: Optional[int] = None, discriminator_type: str = 'LS',
                 lr_D: float = DEFAULT_LR_D, lr_D_power: float = DEFAULT_LR_D_POWER, lr_D_min: float = DEFAULT_LR_D_MIN,
                 lambda_adv_target: Optional[dict] = None, discriminator: Optional[dict] = None,
                 discriminator_in_segmentor_optimizer: bool = True, **kwargs):
        super().__init__(model=model, max_iters=max_iters, **kwargs)
        if discriminator_type not in DISCRIMINATOR_LOSSES:
            raise ValueError(f'AdvSeg discriminator_type={discriminator_type!r}; expected one of '
                             f'{sorted(DISCRIMINATOR_LOSSES)}')
        self.discriminator_type = discriminator_type
        self.loss_fn = DISCRIMINATOR_LOSSES[discriminator_type]
        self.lr_D, self.lr_D_power, self.lr_D_min = lr_D, lr_D_power, lr_D_min
        self.lambda_adv_target = check_output_weights(lambda_adv_target or dict(main=0.001, aux=0.0002),
                                                      'AdvSeg lambda_adv_target')
        self.discriminator_in_segmentor_optimizer = discriminator_in_segmentor_optimizer
        discriminator = dict(discriminator or dict(type='FCDiscriminator', ndf=64), num_classes=self.num_classes)
        self.model_D = nn.ModuleDict({'main': MODELS.build(discriminator)})
        self.build_masking_consistency()
        self._optimizers_checked = False

    @classmethod
    def split_optimizers(cls, cfg: Config) -> None:
        """In place: ``cfg.optim_wrapper`` (the segmentor's) and ``cfg.param_scheduler`` become those of
        both optimisers, the discriminators' Adam and poly schedule from ``cfg.model`` (the AdvSeg config
        with ``lr_D``, ``lr_D_power``, ``lr_D_min``, ``discriminator_in_segmentor_optimizer``) over
        ``cfg.train_cfg.max_iters``. A config that already names both wrappers is left as it is."""
        if SEGMENTOR in cfg.optim_wrapper:
            return
        model = cfg.model
        max_iters = cfg.train_cfg.max_iters
        schedulers = cfg.get('param_scheduler') or []
        cfg.optim_wrapper = dict(
            constructor='AdversarialOptimWrapperConstructor',
            segmentor=copy.deepcopy(cfg.optim_wrapper),
            discriminator=dict(type='OptimWrapper', optimizer=dict(
                type='Adam', lr=model.get('lr_D', DEFAULT_LR_D), betas=DISCRIMINATOR_BETAS)),
            discriminator_module=DISCRIMINATOR_MODULE,
            discriminator_in_segmentor_optimizer=model.get('discriminator_in_segmentor_optimizer', True))
        cfg.param_scheduler = {
            SEGMENTOR: [schedulers] if isinstance(schedulers, dict) else list(schedulers),
            DISCRIMINATOR: [dict(type='PolyLRWithWarmup', power=model.get('lr_D_power', DEFAULT_LR_D_POWER),
                                 min_lr=model.get('lr_D_min', DEFAULT_LR_D_MIN), max_iters=max_iters, by_epoch=False,
                                 begin=0, end=max_iters)]}

    def optim_wrappers(self, optim_wrapper) -> List:
        if not isinstance(optim_wrapper, OptimWrapperDict) or set(optim_wrapper.keys()) != {SEGMENTOR, DISCRIMINATOR}:
            raise TypeError(f'AdvSeg trains with two optimisers: expected an OptimWrapperDict with the wrappers '
                            f'{SEGMENTOR!r} and {DISCRIMINATOR!r}, got {type(optim_wrapper).__name__} (tools/train.py '
                            'builds it from the optimiser config, see AdvSeg.split_optimizers)')
        wrappers = [optim_wrapper[SEGMENTOR], optim_wrapper[DISCRIMINATOR]]
        if not self._optimizers_checked:
            self._check_optimizer_scope(*wrappers)
            self._optimizers_checked = True
        return wrappers

    def _check_optimizer_scope(self, segmentor, discriminator) -> None:
        """The segmentor optimiser holds the discriminators' parameters iff the reference quirk is on."""
        disc_params = {id(p) for p in self.model_D.parameters()}
        held = {id(p) for group in segmentor.optimizer.param_groups for p in group['params']}
        in_disc_optim = {id(p) for group in discriminator.optimizer.param_groups for p in group['params']}
        if not disc_params <= in_disc_optim:
            raise ValueError('AdvSeg: the discriminator optimiser does not hold every parameter of model_D')
        flag = self.discriminator_in_segmentor_optimizer
        if bool(disc_params & held) != flag:
            raise ValueError(f'AdvSeg discriminator_in_segmentor_optimizer={flag}, but the segmentor optimiser '
                             f'{"holds" if disc_params & held else "lacks"} the discriminator parameters')

    def _discriminate(self, name: str, pred: Tensor, label: float) -> tuple:
        """(loss of D(softmax(pred)) against ``label``, D's output)."""
        d_out = self.model_D[name](softmax(pred))
        return self.loss_fn(d_out, d_out.new_full(d_out.shape, label)), d_out

    def _debug_map(self, d_out: Tensor) -> Tensor:
        """D's output as a [0, 1] map: LS scores as they are, Vanilla logits through a sigmoid."""
        return (d_out.sigmoid() if self.discriminator_type == 'Vanilla' else d_out).detach().float()

    def before_target_losses(self) -> None:
        self.model_D.requires_grad_(False)

    def target_losses(self, pred_trg: Dict[str, Tensor], debug: Optional[DebugGrid]) -> Dict[str, Tensor]:
        losses = {}
        for name, pred in pred_trg.items():
            loss, d_out = self._discriminate(name, pred, SOURCE_LABEL)
            losses[f'G_trg.loss.{name}'] = self.lambda_adv_target[name] * loss
            if debug is not None:
                debug['Target'][f'D {name}'] = self._debug_map(d_out)
        return losses

    def after_target_losses(self, pred_src: Dict[str, Tensor], pred_trg: Dict[str, Tensor], backward,
                            log_vars: dict, debug: Optional[DebugGrid]) -> None:
        self.model_D.requires_grad_(True)
        for domain, preds, label in (('src', pred_src, SOURCE_LABEL), ('trg', pred_trg, TARGET_LABEL)):
            losses = {}
            for name, pred in preds.items():
                loss, d_out = self._discriminate(name, pred.detach(), label)
                losses[f'D_{domain}.loss.{name}'] = loss / 2
                if debug is not None and domain == 'src':
                    debug['Source'][f'D {name}'] = self._debug_map(d_out)
            loss, log = self.parse_losses(losses)
            log_vars.update(log)
            backward(loss)
