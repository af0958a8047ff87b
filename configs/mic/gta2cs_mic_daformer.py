# MIC(DAFormer), GTA -> Cityscapes at DAFormer resolution (MIC Table 1, MiT-B5 row; experiment 81): the
# final DAFormer config (../daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py: MiT-B5 +
# DAFormer decoder, DACS with EMA 0.999, feature distance on thing classes, RCS with min_crop_ratio 0.5,
# pseudo-label crop v1 (top 15 / bottom 120 rows), AdamW 6e-5, poly10warm, 40k iterations, batch 2 + 2,
# whole-image test at 1024x512) plus masked image consistency on colour-augmented target images, with the
# block size halved for the 512x512 crops (32 instead of 64, ratio 0.7).
# Reference: MIC seg/experiments.py ID 81 (no config file in the MIC repository; seed 0 as the DAFormer
# config it extends, one worker as every MIC experiment); spec §6.1, §6.2, §10.2.
_base_ = ['../daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py']
randomness = dict(seed=0)
uda = dict(
    # Mask the target images after colour augmentation (fresh colour-jitter / blur draws, blur regardless
    # of the DACS blur flag), trained on the un-mixed pseudo-labels of the clean target images.
    mask_mode='separatetrgaug',
    # Share the DACS teacher (EMA 0.999) and its pseudo-labels / confidence weights (threshold 0.968):
    # no teacher of MIC's own.
    mask_alpha='same',
    mask_pseudo_threshold='same',
    mask_lambda=1,  # equal weight of the masked loss (decode.loss_seg is not rescaled)
    # Random 32x32 blocks, each kept with probability 1 - 0.7 (masked pixels become 0 after
    # normalisation, the mean colour): a 16x16 grid of blocks on a 512x512 crop.
    mask_generator=dict(_delete_=True, type='block', mask_ratio=0.7, mask_block_size=32))
# workers_per_gpu 1 in the MIC experiments: validation and test; the train loader keeps DAFormer's 6 processes
# (a 45 ms iteration needs them, benchmarks/README.md)
val_dataloader = dict(num_workers=1)
test_dataloader = val_dataloader
# Metadata of the reference naming scheme (experiments.py): mask suffix _m{block}-{ratio}-{mode}.
name = 'gta2cs_mic_daformer_s0'
name_uda = 'dacs_a999_fdthings_rcs0.01_cpl_m32-0.7-spta'
gpu_model = 'NVIDIAGeForceRTX2080Ti'
n_gpus = 1
