#!/bin/sh
# Evaluate a run directory: ours, or one released with the original DAFormer / HRDA / MIC.
#   sh test.sh work_dirs/local-basic/<run>                            # mIoU on the config's test data
#   sh test.sh work_dirs/local-basic/<run> --test-set --format-only   # files for the test server
# Finds the config and the latest checkpoint in RUN_DIR, evaluates the student (when the test data has labels),
# writes colour images and train-id label maps to RUN_DIR/preds and the per-class results to
# RUN_DIR/test_results.json (test_results_tta.json with --tta, ...).
# Further arguments go to tools/test.py. The interpreter: $PYTHON if set, else the active virtual environment's,
# else the repository's .venv (made by `make install`), else python3 from PATH.
set -e
if [ $# -lt 1 ]; then
    echo "usage: sh test.sh RUN_DIR [tools/test.py options]" >&2
    exit 2
fi
RUN_DIR="${1%/}"
shift
if [ ! -d "$RUN_DIR" ]; then
    echo "test.sh: no such run directory: $RUN_DIR" >&2
    exit 2
fi
echo "Run Directory: $RUN_DIR"
echo "Show Dir: $RUN_DIR/preds"
REPO_DIR="$(cd "$(dirname "$0")" && pwd)"
if [ -z "$PYTHON" ]; then
    if [ -n "$VIRTUAL_ENV" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then
        PYTHON="$VIRTUAL_ENV/bin/python"
    elif [ -x "$REPO_DIR/.venv/bin/python" ]; then
        PYTHON="$REPO_DIR/.venv/bin/python"
    else
        PYTHON=python3
    fi
fi
PYTHONPATH="$REPO_DIR${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH
exec "$PYTHON" -m tools.test "$RUN_DIR" --work-dir "$RUN_DIR" --show-dir "$RUN_DIR/preds" --opacity 1 "$@"
