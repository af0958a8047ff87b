# Embedded synthetic benchmark: CDDA on DACS + RCS (synth_gta2cs_dacs_rcs.py: tiny DAFormer from scratch, 2000
# iterations of 8 + 8 images at 128x128) with the depth maps of tools/make_synthetic_data.py. The thresholds are
# the GTA DAFormer ones (0.56 / 0.54, decay 0.0025); the decay window of 10k-40k of 40k iterations is scaled to
# the 2000 iterations: 30 steps at 500, 550, ..., 1950.
# Before training: python tools/cdda_preprocess.py configs/synth/synth_gta2cs_cdda.py (600 crops, seconds).
_base_ = ['synth_gta2cs_dacs_rcs.py']
uda = dict(
    cdda=dict(
        dataset='gta',
        reweight_threshold=0.56,
        relabel_threshold=0.54,
        threshold_decay=0.0025,
        decay_start=500,
        decay_interval=50,
        decay_end=2000,
        guidance_weight=0.1,
        legacy_row0_mask=True,
        legacy_exact_depth_gate=True,
        legacy_last_class_flag=True))
train_dataloader = dict(
    dataset=dict(
        # data/synthetic/gta/depth_any/<image name>.png, data/synthetic/cityscapes/depth_any/train/<city>/*_depth.png
        source=dict(data_prefix=dict(depth_path='depth_any')),
        target=dict(data_prefix=dict(depth_path='depth_any/train'))))
name = 'synth_gta2cs_cdda'
