# MIC(HRDA), Cityscapes -> Dark Zurich (60.2 mIoU on the Dark Zurich test split: HRDA 55.9 + 4.3 of the MIC
# README chart; MIC Table 2, experiment 80): the HRDA config (../hrda/csHR2dzurHR_hrda.py: MiT-B5 + DAFormer
# decoder in HRDA, DACS with EMA 0.999, feature distance on thing classes, RCS with min_crop_ratio 2.0, no
# pseudo-label crop, AdamW 6e-5, poly10warm, 40k iterations, batch 2 + 2, slide test) plus masked image
# consistency: the student also learns from a source and a target image masked in 64x64 blocks (ratio 0.7),
# supervised by the source label and the EMA teacher's pseudo-label of the un-masked target image (mask mode
# 'separate').
# Reference: MIC seg/experiments.py ID 80 (the MIC repository ships a config file for GTA only; this one is
# gtaHR2csHR_mic_hrda.py with the Dark Zurich data, seed 2 as that file); spec §6.1, §6.2, §10.2.
_base_ = ['../hrda/csHR2dzurHR_hrda.py']
randomness = dict(seed=2)  # the seed with median performance (MIC)
uda = dict(
    # Mask a batch of one source and one target image ([src_0, tgt_0], labels [gt_0, pl_0], weights
    # [1, q_0]) without colour augmentation: the final mode for the adverse-condition targets.
    mask_mode='separate',
    # Share the DACS teacher (EMA 0.999) and its pseudo-labels / confidence weights (threshold 0.968):
    # no teacher of MIC's own.
    mask_alpha='same',
    mask_pseudo_threshold='same',
    mask_lambda=1,  # equal weight of the masked loss (decode.loss_seg is not rescaled)
    # Random 64x64 blocks, each kept with probability 1 - 0.7 (masked pixels become 0 after
    # normalisation, the mean colour): a 16x16 grid of blocks on a 1024x1024 crop.
    mask_generator=dict(_delete_=True, type='block', mask_ratio=0.7, mask_block_size=64))
# Metadata of the reference naming scheme (experiments.py): mask suffix _m{block}-{ratio}-{mode}.
name = 'csHR2dzurHR_mic_hrda_s2'
name_uda = 'dacs_a999_fdthings_rcs0.01-2.0_m64-0.7-sep'
