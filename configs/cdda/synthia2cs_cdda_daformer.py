# CDDA on DAFormer, SYNTHIA -> Cityscapes (63.2 mIoU16 reported, CDDA README; DAFormer 60.9): the final DAFormer
# on SYNTHIA (../daformer/syn2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py, seed 0) plus the depth-
# distribution guidance of gta2cs_cdda_daformer.py with the SYNTHIA thresholds (0.49 / 0.47, decay 0.001:
# 0.49 -> 0.46 over 30 steps).
# Before training: python tools/cdda_preprocess.py configs/cdda/synthia2cs_cdda_daformer.py (9400 crops of 512x512).
# Reference: CDDA configs/cdda/synthia2cs_cdda_daformer.py; spec ebda-cdda-ddb §2.
_base_ = ['../daformer/syn2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py']
uda = dict(
    cdda=dict(
        dataset='synthia',  # the reweighting skips terrain, truck and train (no SYNTHIA pixels)
        reweight_threshold=0.49,
        relabel_threshold=0.47,
        threshold_decay=0.001,
        decay_start=10000,
        decay_interval=1000,
        decay_end=40000,
        guidance_weight=0.1,
        legacy_row0_mask=True,
        legacy_exact_depth_gate=True,
        legacy_last_class_flag=True))
train_dataloader = dict(
    dataset=dict(
        # data/synthia/depth_any/<image name>.png and data/cityscapes/depth_any/train/<city>/<stem>_depth.png
        source=dict(data_prefix=dict(depth_path='depth_any')),
        target=dict(data_prefix=dict(depth_path='depth_any/train'))))
train_cfg = dict(val_interval=1000)  # evaluation every 1000 iterations, best-mIoU checkpoint kept (reference)
default_hooks = dict(checkpoint=dict(save_best='mIoU', rule='greater'))
name = 'synthia2cs_cdda_daformer'
name_uda = 'dacs_a999_fdthings_rcs0.01_cpl_cdda'
