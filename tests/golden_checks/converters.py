"""Checker for the dataset-converter golden cases: ``tools/convert_datasets/<dataset>.py`` end to end.

The stored inputs are written in the reference layout into a temporary folder, the script's
``main(argv)`` runs there with the stored argv, and every written file is compared with the
stored outputs: label PNGs exactly, JSON and split files byte for byte. The reference does not
sort the Cityscapes file list (directory scan order), so for Cityscapes the entries are first
put into the stored order, then compared byte for byte.
"""
import contextlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np
from cityscapesscripts.helpers.labels import labels as cityscapes_labels
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
UNORDERED_DATASETS = {'cityscapes'}


@contextlib.contextmanager
def _inside(directory: Path) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)


def _load_script(dataset: str):
    path = REPO_ROOT / 'tools' / 'convert_datasets' / f'{dataset}.py'
    spec = importlib.util.spec_from_file_location(f'convert_{dataset}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cityscapes_palette() -> list:
    palette = [0] * 768
    for label in cityscapes_labels:
        if 0 <= label.id < 256:
            palette[3 * label.id:3 * label.id + 3] = label.color
    return palette


def _write_input(path: str, value: Any, png_mode: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(value, str):
        Path(path).write_text(value)
        return
    array = value.numpy()
    if array.ndim == 2 and array.dtype == np.uint8:
        image = Image.fromarray(array)
        if png_mode.startswith('P'):
            image.putpalette(_cityscapes_palette())
        image.save(path)
    else:  # e.g. 16-bit multi-channel labels, stored as OpenCV reads them
        assert cv2.imwrite(path, array), f'could not write {path}'


def _ordered_like(actual: Any, expected: Any) -> Any:
    """``actual`` with dict keys and list entries put in the order of the equal ones in ``expected``."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        keys = [k for k in expected if k in actual] + [k for k in actual if k not in expected]
        return {k: _ordered_like(actual[k], expected.get(k)) for k in keys}
    if isinstance(actual, list) and isinstance(expected, list):
        position = {json.dumps(e, sort_keys=True): i for i, e in enumerate(expected)}
        return sorted(actual, key=lambda e: position.get(json.dumps(e, sort_keys=True), len(expected)))
    return actual


def _files_below(root: Path) -> list:
    return sorted(str(p.relative_to(root)) for p in root.rglob('*') if p.is_file())


def check_convert(case: dict) -> None:
    dataset = case['case'][len('convert_'):].rsplit('_', 1)[0]
    argv = list(case['config']['argv'])
    inputs, outputs = case['inputs'], case['outputs']
    png_mode = inputs.get('png_mode', 'L')
    script = _load_script(dataset)
    args = script.parse_args(argv)
    data_root = argv[0]
    out_dir = args.out_dir or data_root
    with tempfile.TemporaryDirectory() as tmp, _inside(Path(tmp)):
        for value in inputs.values():
            if isinstance(value, dict):
                for path, content in value.items():
                    _write_input(path, content, png_mode)
        script.main(argv)

        for path, expected in outputs['train_ids'].items():
            with Image.open(path) as image:
                assert image.mode == 'L', f'{path}: mode {image.mode}, expected L'
                np.testing.assert_array_equal(np.asarray(image), expected.numpy(), err_msg=path)
        for name, expected in outputs['json'].items():
            text = Path(out_dir, name).read_text()
            if dataset in UNORDERED_DATASETS:
                assert text == json.dumps(json.loads(text), indent=2), f'{name}: not formatted as json.dump(indent=2)'
                text = json.dumps(_ordered_like(json.loads(text), json.loads(expected)), indent=2)
            assert text == expected, f'{name}: content differs from the reference'
        for name, expected in outputs.get('split_txt', {}).items():
            text = Path(out_dir, name).read_text()
            assert sorted(text.splitlines(keepends=True)) == sorted(expected.splitlines(keepends=True)), name
        assert _files_below(Path(data_root)) == sorted(outputs['files_after']), 'files below the data root differ'
