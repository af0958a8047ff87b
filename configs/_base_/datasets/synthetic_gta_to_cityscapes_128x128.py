# The source of the embedded synthetic pair with its labels, validated on its target: the source-only data set of
# `run_experiments.py --exp ID --data synth`, as gta_to_cityscapes_512x512.py is for the benchmark. The pipeline of
# the target-only data set (random crop, flip and photometric distortion; no resize, the images already have the
# crop size) on the source images.
_base_ = ['./synthetic_cityscapes_128x128.py']
train_dataloader = dict(
    dataset=dict(
        type='GTADataset',
        data_root='data/synthetic/gta/',
        data_prefix=dict(img_path='images', seg_map_path='labels')))
