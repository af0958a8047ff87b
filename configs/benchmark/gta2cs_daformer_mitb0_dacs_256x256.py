# Benchmark configuration of tools/benchmark.py on a CPU: the final DAFormer UDA recipe
# (configs/daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py: DACS, EMA teacher,
# ImageNet feature distance on thing classes, ClassMix with colour jitter and blur) with the smallest
# MiT (mit_b0) and 256x256 crops, batch 2 source + 2 target. The benchmark times the model's
# training step on in-memory batches of this crop size, so the data sets are not read; the encoder
# starts from the random MiT initialisation (ImageNet weights do not change the cost). Inference is
# timed on an image of the test pipeline's size (Cityscapes at 1024x512, whole-image inference).
_base_ = ['../daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py']
crop_size = (256, 256)
model = dict(
    pretrained=None,
    backbone=dict(type='mit_b0'),
    decode_head=dict(in_channels=[32, 64, 160, 256]))
# the pseudo-label crop of the 512x512 recipe (top 15, bottom 120 rows), halved for 256x256 crops
uda = dict(pseudo_weight_ignore_top=7, pseudo_weight_ignore_bottom=60)
name = 'gta2cs_daformer_mitb0_dacs_256x256'
