"""End-to-end smoke of the segmentation stack on CPU: config → model → train steps → inference.

Builds a model config of ``configs/_base_/models`` (by default the final DAFormer decoder on a small
MiT), trains it with AdamW through mmengine's ``train_step`` (data preprocessor, loss, optimiser) on
a fixed batch of synthetic street-like scenes until it fits them, then predicts with whole and slide
inference. Writes ``loss.png`` and ``summary.json`` to the work dir. Exit status 1 if the model did
not fit the batch (pixel accuracy below ``--min-acc``).
"""
import argparse
import copy
import json
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import matplotlib  # noqa: E402

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.optim import OptimWrapper  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402
from tqdm import tqdm  # noqa: E402

import mmseg.models  # noqa: E402,F401
from mmseg.models.backbones import MIT_VARIANTS  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402

# (train id, BGR colour) of the bands of a toy street scene, top to bottom: sky, building, road
BANDS = [(10, (180, 130, 70)), (2, (70, 70, 70)), (0, (128, 64, 128))]
CAR = (13, (142, 0, 0))


def synthetic_scene(size: int, generator: torch.Generator):
    """A BGR uint8 image (3, H, W) with sky/building/road bands and one car, and its train-id labels."""
    img = torch.zeros(3, size, size)
    label = torch.zeros(1, size, size, dtype=torch.long)
    cuts = sorted(torch.randint(size // 5, 4 * size // 5, (2, ), generator=generator).tolist())
    for (train_id, colour), (top, bottom) in zip(BANDS, zip([0] + cuts, cuts + [size])):
        img[:, top:bottom] = torch.tensor(colour, dtype=torch.float).view(3, 1, 1)
        label[:, top:bottom] = train_id
    x = int(torch.randint(0, size // 2, (1, ), generator=generator))
    y = max(cuts[1] - size // 8, 0)
    img[:, y:y + size // 6, x:x + size // 3] = torch.tensor(CAR[1], dtype=torch.float).view(3, 1, 1)
    label[:, y:y + size // 6, x:x + size // 3] = CAR[0]
    img += 20 * torch.randn(img.shape, generator=generator)
    return img.clamp(0, 255).to(torch.uint8), label


def build_model(config: str, backbone: str) -> torch.nn.Module:
    cfg = Config.fromfile(config).model.to_dict()
    cfg['pretrained'] = None
    cfg['backbone']['type'] = backbone
    widths = MIT_VARIANTS[backbone]['embed_dims']
    cfg['decode_head']['in_channels'] = [widths[i] for i in cfg['decode_head']['in_index']]
    return MODELS.build(cfg)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=str(REPO_ROOT / 'configs/_base_/models/daformer_sepaspp_mitb5.py'))
    parser.add_argument('--backbone', default='mit_b0', choices=sorted(MIT_VARIANTS))
    parser.add_argument('--iters', type=int, default=60)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--lr', type=float, default=6e-4)
    parser.add_argument('--min-acc', type=float, default=90.0, help='pixel accuracy (%%) the fit must reach')
    parser.add_argument('--work-dir', default=str(REPO_ROOT / 'work_dirs' / 'smoke'))
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    model = build_model(args.config, args.backbone)
    print(f'{Path(args.config).name} with {args.backbone}: '
          f'{sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters')
    scenes = [synthetic_scene(args.size, generator) for _ in range(args.batch)]
    images = [img for img, _ in scenes]
    samples = []
    for _, label in scenes:
        sample = SegDataSample(metainfo=dict(ori_shape=(args.size, args.size), flip=False))
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01))

    history = []
    start = time.time()
    model.train()
    for _ in tqdm(range(args.iters), desc='train steps'):
        log = model.train_step(dict(inputs=images, data_samples=copy.deepcopy(samples)), optim)
        history.append({k: v.item() for k, v in log.items()})
    train_seconds = time.time() - start

    model.eval()
    with torch.no_grad():
        whole = model.val_step(dict(inputs=images, data_samples=copy.deepcopy(samples)))
        model.test_cfg = dict(mode='slide', crop_size=(args.size // 2, ) * 2, stride=(args.size // 4, ) * 2,
                              batched_slide=True)
        slide = model.val_step(dict(inputs=images, data_samples=copy.deepcopy(samples)))
    labels = torch.stack([s.gt_sem_seg.data for s in samples])
    accuracy = {name: 100.0 * float((torch.stack([p.pred_sem_seg.data for p in preds]) == labels).float().mean())
                for name, preds in (('whole', whole), ('slide', slide))}

    work_dir = Path(args.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([h['decode.loss_seg'] for h in history], label='loss')
    ax.set_xlabel('iteration')
    ax.set_ylabel('cross-entropy')
    ax.set_title(f'smoke fit: final accuracy whole {accuracy["whole"]:.1f}%, slide {accuracy["slide"]:.1f}%')
    fig.tight_layout()
    fig.savefig(work_dir / 'loss.png.tmp', format='png')
    plt.close(fig)
    (work_dir / 'loss.png.tmp').replace(work_dir / 'loss.png')
    summary = dict(config=args.config, backbone=args.backbone, iters=args.iters, size=args.size,
                   first_loss=history[0]['decode.loss_seg'], last_loss=history[-1]['decode.loss_seg'],
                   train_seconds=round(train_seconds, 1), accuracy=accuracy)
    (work_dir / 'summary.json.tmp').write_text(json.dumps(summary, indent=2))
    (work_dir / 'summary.json.tmp').replace(work_dir / 'summary.json')
    print(json.dumps(summary, indent=2))
    print(f'wrote {work_dir / "loss.png"} and {work_dir / "summary.json"}')
    if min(accuracy.values()) < args.min_acc:
        print(f'FAILED: accuracy {accuracy} below {args.min_acc}%')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
