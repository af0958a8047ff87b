#!/bin/sh
# Evaluate a run directory: ours, or one released with the original DAFormer / HRDA / MIC.
#   sh test.sh work_dirs/local-basic/<run>                            # mIoU on the config's test data
#   sh test.sh work_dirs/local-basic/<run> --test-set --format-only   # files for the test server
# Finds the config and the latest checkpoint in RUN_DIR, evaluates the student, writes colour images
# and train-id label maps to RUN_DIR/preds and the per-class results to RUN_DIR/test_results.json.
# Further arguments go to tools/test.py. PYTHON selects the interpreter (default: python).
set -e
if [ $# -lt 1 ]; then
    echo "usage: sh test.sh RUN_DIR [tools/test.py options]" >&2
    exit 2
fi
RUN_DIR="${1%/}"
shift
EVALUATE=1
for arg in "$@"; do
    case "$arg" in
        --test-set|--format-only) EVALUATE=0 ;;
    esac
done
if [ "$EVALUATE" = 1 ]; then
    set -- --eval mIoU --out "$RUN_DIR/test_results.json" "$@"
fi
echo "Run Directory: $RUN_DIR"
echo "Show Dir: $RUN_DIR/preds"
PYTHONPATH="$(cd "$(dirname "$0")" && pwd)${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH
exec "${PYTHON:-python}" -m tools.test "$RUN_DIR" --show-dir "$RUN_DIR/preds" --opacity 1 "$@"
