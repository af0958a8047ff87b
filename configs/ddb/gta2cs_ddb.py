# DDB in one command: GTA -> Cityscapes, ResNet-101 DeepLabV2 (the reference configs). `python run_experiments.py
# --config configs/ddb/gta2cs_ddb.py` runs Round 1 (ST-cu, ST-ca, their prototypes, CKD) and Round 2 (ST-cu and ST-ca
# from the Round-1 CKD student, prototypes, CKD) into work_dirs/ddb/gta2cs_ddb/ (or --work-dir), with manifest.json
# recording which checkpoint and prototypes each stage consumed; rerunning the command skips finished stages and
# resumes an interrupted one (tools/ddb_pipeline.py).
ddb_pipeline = dict(
    rounds=[
        dict(
            st_cu='gta2city/r1_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta2city.py',
            st_ca='gta2city/r1_st_ca_dlv2_r101v1c_1x4_512x512_40k_gta2city.py',
            ckd='gta2city/r1_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city.py'),
        dict(
            st_cu='gta2city/r2_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta2city.py',
            st_ca='gta2city/r2_st_ca_dlv2_r101v1c_1x4_512x512_40k_gta2city.py',
            ckd='gta2city/r2_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city.py'),
    ],
    prototype_epochs=4)  # passes of the prototype tool over the target training set (the reference: 4)
name = 'gta2cs_ddb'
