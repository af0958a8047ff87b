"""The CNN architectures of DAFormer's experiments 1-3 and 6: parameter counts in the README against the models the
experiments build (meta device) and the layouts of the original code (golden folder); one member of each new
architecture trains on a tiny synthetic pair; unknown decoder names list the known ones."""
import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import experiments
import run_experiments
from mmseg.apis.train_config import runner_config
from mmseg.registry import MODELS
from tests.golden_utils import golden_dir
from tests.test_experiments import configs_root, load, mmseg_scope  # noqa: F401 (fixtures)

REPO_ROOT = Path(__file__).resolve().parents[1]
# Run-name architecture -> (experiment ID, golden layout file, its entry, the part of the model it covers).
README_MODELS = {
    'dlv2red_r101v1c': (1, 'dlv2_r101_keys_a', 'dlv2red_r101v1c_segmentor', ''),
    'da_nodbn_r101v1c': (1, 'zoo_keys_a', 'r101v1c_da', ''),
    'isa_nodbn_r101v1c': (1, 'zoo_keys_a', 'r101v1c_isa', ''),
    'dlv3p_nodbn_r101v1c': (1, 'zoo_keys_a', 'r101v1c_dlv3p', ''),
    'sfa_dlv3p_nodbn_mitb5-del': (2, 'zoo_keys_a', 'mitb5_sfa_dlv3p_nodbn', ''),
    'segformer_r101v1c': (2, 'zoo_keys_a', 'r101v1c_backbone', 'backbone.'),
    'dlv2red_r50v1c': (3, 'dlv2_r101_keys_a', 'resnet50_v1c', 'backbone.'),
    'dlv2red_s50': (3, 'zoo_keys_a', 's50_backbone', 'backbone.'),
    'dlv2red_s101': (3, 'zoo_keys_a', 's101_backbone', 'backbone.'),
    'dlv2red_s200': (3, 'zoo_keys_a', 's200_backbone', 'backbone.'),
    'upernet_mitb5': (6, 'mit_keys', 'mit_b5', 'backbone.'),
    'upernet_ch256_mitb5': (6, 'mit_keys', 'mit_b5', 'backbone.'),
}
# One member of each new decoder, encoder kind and of the source-only variant: (ID, architecture, UDA variant).
TRAINED_MEMBERS = [(3, 'dlv2red_s50', 'source-only'), (1, 'da_nodbn_r101v1c', 'dacs'),
                   (1, 'isa_nodbn_r101v1c', 'target-only'), (1, 'dlv3p_nodbn_r101v1c', 'target-only'),
                   (2, 'sfa_dlv3p_nodbn_mitb5-del', 'target-only'), (2, 'segformer_r101v1c', 'target-only'),
                   (6, 'upernet_mitb5', 'target-only')]
NARROWING = 8  # widths of the trained members are divided by this (MiT-B5 becomes MiT-B0, half its widths)


def member(exp_id: int, architecture: str, uda: str = 'target-only', data: str = 'benchmark') -> dict:
    """The seed-0 config dict of an experiment member."""
    return next(cfg for cfg in experiments.generate_experiment_cfgs(exp_id, data) if cfg['randomness']['seed'] == 0
                and cfg['name_architecture'] == architecture and cfg['name_uda'] == uda)


def readme_parameter_counts() -> dict:
    """Run-name architecture -> trainable parameters, from the README table of the CNN architectures."""
    rows = re.findall(r'^\| `([\w.-]+)` \|.*\| ([\d,]+) \|$', (REPO_ROOT / 'README.md').read_text(), re.MULTILINE)
    return {name: int(count.replace(',', '')) for name, count in rows}


def test_readme_parameter_counts_match_the_models_and_the_golden_layouts(configs_root):
    counts = readme_parameter_counts()
    assert set(counts) == set(README_MODELS)
    golden = golden_dir()
    for architecture, (exp_id, golden_file, entry, part) in README_MODELS.items():
        with torch.device('meta'):
            model = MODELS.build(load(member(exp_id, architecture), configs_root).model)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        assert trainable == counts[architecture], architecture
        if not golden.is_dir():
            continue
        layout = torch.load(golden / f'{golden_file}.pt', weights_only=True)['outputs'][entry]
        state = {k[len(part):]: v for k, v in model.state_dict().items() if k.startswith(part)}
        assert list(state) == layout['keys'], architecture
        expected = layout.get('num_trainable', layout.get('n_trainable_params', layout.get('num_params')))
        assert sum(p.numel() for k, p in model.named_parameters() if k.startswith(part)) == expected, architecture


def narrow(model: Config) -> None:
    """Divide the widths of a member's model by :data:`NARROWING` (the input widths of the head follow)."""
    backbone, head = model.backbone, model.decode_head
    if backbone.type.startswith('mit_b'):
        backbone.type, input_factor = 'mit_b0', 2
    else:
        backbone.stem_channels = backbone.get('stem_channels', 64) // NARROWING
        backbone.base_channels, input_factor = 64 // NARROWING, NARROWING
    in_channels = head.in_channels
    head.in_channels = ([c // input_factor for c in in_channels] if isinstance(in_channels, list)
                        else in_channels // input_factor)
    if 'c1_in_channels' in head:
        head.c1_in_channels //= input_factor
    for key in ('channels', 'c1_channels', 'pam_channels', 'isa_channels'):
        if key in head:
            head[key] //= NARROWING
    if 'decoder_params' in head:
        head.decoder_params.embed_dim //= NARROWING


@pytest.fixture(scope='module')
def synthetic_pair(tmp_path_factory) -> Path:
    from tools import make_synthetic_data
    data = tmp_path_factory.mktemp('data') / 'synthetic'
    make_synthetic_data.main(['--out-dir', str(data), '--num', '8', '--num-target-train', '4', '--num-val', '2'])
    return data


@pytest.mark.parametrize('exp_id, architecture, uda', TRAINED_MEMBERS)
def test_a_member_of_each_new_architecture_trains_on_the_synthetic_pair(exp_id, architecture, uda, configs_root,
                                                                      synthetic_pair, tmp_path):
    """``run_experiments.py --exp ID --startup-test --data synth`` for one member, narrowed, in this process."""
    cfg = load(member(exp_id, architecture, uda, data='synth'), configs_root)
    cfg.merge_from_dict(run_experiments.run_overrides(cfg, None, None, None, False, True))
    cfg.merge_from_dict(run_experiments.moved_data_roots(cfg, synthetic_pair))
    narrow(cfg.model)
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    runner = Runner.from_cfg(runner_config(cfg))
    runner.train()
    assert runner.iter == 2
    losses = [key for key in runner.message_hub.log_scalars if key.startswith('train/') and 'loss' in key]
    assert losses and all(torch.isfinite(torch.tensor(runner.message_hub.get_scalar(key).current()))
                          for key in losses)


def test_unknown_decoder_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown decoder 'dlv3'; known decoders: da_nodbn, daformer_aspp, .*"
                                         r"dlv2red, dlv3p_nodbn, .*upernet_ch256"):
        experiments.missing_components(experiments.Run('dlv3', 'r101v1c', 'dacs'))
    with pytest.raises(ValueError, match=r"decoder 'dlv2red' has no model for backbone 'x101-32'; its backbones: "
                                         r"r101v1c, .*r50v1c, s101, s200, s50"):
        experiments.missing_components(experiments.Run('dlv2red', 'x101-32', 'dacs'))
