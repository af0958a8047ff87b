# AdvSeg (after AdaptSegNet): adversarial alignment of the softmax outputs with a fully convolutional
# discriminator (reference: MIC configs/_base_/uda/advseg.py; spec §7). The reference trains it with SGD
# (lr 0.0025, no head multiplier, _base_/schedules/sgd.py) on colour-augmented source data (the gtaCAug data sets).
_base_ = ['output_space.py']
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
)
