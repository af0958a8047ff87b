# AdvSeg (after AdaptSegNet): adversarial alignment of the softmax outputs with a fully convolutional
# discriminator (reference: MIC configs/_base_/uda/advseg.py; spec §7). `model` and `max_iters` are filled
# in from the experiment config. The reference trains it with SGD (lr 0.0025, no head multiplier,
# _base_/schedules/sgd.py) on colour-augmented source data (the gtaCAug data sets).
uda = dict(
    type='AdvSeg',
    discriminator_type='LS',  # least-squares GAN: MSE of D's scores to 0 (source) / 1 (target); 'Vanilla': BCE
    # The discriminators' own optimiser: Adam, betas (0.9, 0.99), lr (lr_D - lr_D_min) * (1 - it/max_iters)^power
    # + lr_D_min (tools/train.py gives it its own optimiser wrapper and schedule, see AdvSeg.split_optimizers)
    lr_D=1e-4,
    lr_D_power=0.9,
    lr_D_min=0,
    lambda_adv_target=dict(main=0.001, aux=0.0002),  # generator loss weight per output ('aux': auxiliary head)
    discriminator=dict(type='FCDiscriminator', ndf=64),  # 5 convs, 19 -> 64 -> 128 -> 256 -> 512 -> 1
    # Reference quirk: its runner builds the segmentor optimiser over the whole module, so SGD also steps the
    # discriminators (with their D-loss gradients) before Adam does. False: Adam alone.
    discriminator_in_segmentor_optimizer=True,
    debug_img_interval=1000,  # class_mix_debug/<iter>_<j>_s.png: images, predictions, D outputs
    # MIC masked image consistency (off; spec §6) with its own EMA teacher; the reference's inactive defaults
    alpha=0.999,
    pseudo_threshold=0.968,
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0,
    blur=True,  # unused: MIC's colour augmentation blurs regardless, as the reference
    color_jitter_strength=0.2,
    color_jitter_probability=0.2,
    mask_mode=None,  # e.g. 'separatetrgaug'
    mask_alpha='same',
    mask_pseudo_threshold='same',
    mask_lambda=0,
    mask_generator=None,  # e.g. dict(type='block', mask_ratio=0.7, mask_block_size=32)
)
use_ddp_wrapper = True
