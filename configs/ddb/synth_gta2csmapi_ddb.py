# DDB in one command: the embedded synthetic pair, multi-target (Cityscapes + Mapillary styles). `python
# run_experiments.py --config configs/ddb/synth_gta2csmapi_ddb.py` runs Round 1 (ST-cu, ST-ca, their prototypes, CKD)
# and Round 2 (ST-cu and ST-ca from the Round-1 CKD student, prototypes, CKD) into work_dirs/ddb/synth_gta2csmapi_ddb/
# (or --work-dir), with manifest.json recording which checkpoint and prototypes each stage consumed; rerunning the
# command skips finished stages and resumes an interrupted one (tools/ddb_pipeline.py).
ddb_pipeline = dict(
    rounds=[
        dict(
            st_cu='synth/r1_st_cu_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city+mapi.py',
            st_ca='synth/r1_st_ca_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city+mapi.py',
            ckd='synth/r1_ckd_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city+mapi.py'),
        dict(
            st_cu='synth/r2_st_cu_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city+mapi.py',
            st_ca='synth/r2_st_ca_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city+mapi.py',
            ckd='synth/r2_ckd_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city+mapi.py'),
    ],
    prototype_epochs=4)  # passes of the prototype tool over the target training set (the reference: 4)
name = 'synth_gta2csmapi_ddb'
