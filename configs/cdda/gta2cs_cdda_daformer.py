# CDDA on DAFormer, GTA -> Cityscapes (69.6 mIoU reported, CDDA README; DAFormer 68.3): the final DAFormer
# (../daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py: MiT-B5 + DAFormer decoder, DACS with
# EMA 0.999, FD on thing classes, RCS, pseudo-label crop 15 / 120 rows, AdamW 6e-5, poly10warm, 40k iterations,
# batch 2 + 2, seed 0) plus class-wise depth-distribution guidance: each target crop is compared with a bank of
# source crops by its (pseudo-class x depth-bin) histogram; its pseudo-label weights are reweighted class-wise,
# its ClassMix source is replaced by the most similar bank crop, and classes of that crop absent from the
# pseudo-label are injected as soft labels into a guidance loss on the clean target crop.
# Before training: python tools/cdda_preprocess.py configs/cdda/gta2cs_cdda_daformer.py (the bank of 24966 crops
# of 512x512; training finds it in data/cdda_banks/).
# Reference: CDDA configs/cdda/gta2cs_cdda_daformer.py; spec ebda-cdda-ddb §2.
_base_ = ['../daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py']
uda = dict(
    cdda=dict(
        dataset='gta',  # the reweighting skips no class (SYNTHIA: terrain, truck, train)
        # Image-score thresholds (strict >): reweight + replace the ClassMix source above the first, relabel
        # above the second; both drop by threshold_decay at iterations 10k, 11k, ..., 39k (0.56 -> 0.485).
        reweight_threshold=0.56,
        relabel_threshold=0.54,
        threshold_decay=0.0025,
        decay_start=10000,
        decay_interval=1000,
        decay_end=40000,
        guidance_weight=0.1,  # guidance loss weight 0.1 * q (q: the batch's confident-pixel share)
        # Reference quirks, reproduced (set False for the fixes): the reweighting's class mask from row 0 of the
        # pseudo-label, the relabel gate on exact depth values, the guidance loss only if the last processed
        # class passed the gate.
        legacy_row0_mask=True,
        legacy_exact_depth_gate=True,
        legacy_last_class_flag=True))
train_dataloader = dict(
    dataset=dict(
        # Depth Anything V2 maps, 8-bit: data/gta/depth_any/<image name>.png and
        # data/cityscapes/depth_any/train/<city>/<stem>_depth.png (tools/make_depth_maps.py)
        source=dict(data_prefix=dict(depth_path='depth_any')),
        target=dict(data_prefix=dict(depth_path='depth_any/train'))))
# The reference evaluates every 1000 iterations and keeps the best-mIoU checkpoint, which its test.sh evaluates.
train_cfg = dict(val_interval=1000)
default_hooks = dict(checkpoint=dict(save_best='mIoU', rule='greater'))
name = 'gta2cs_cdda_daformer'
name_uda = 'dacs_a999_fdthings_rcs0.01_cpl_cdda'
