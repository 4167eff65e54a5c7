#!/usr/bin/env python3
"""Checks Recurrent's ONNX export with the real runtime (issue 21).

Reads the cases that the Swift test RecurrentONNXTests/ONNXRuntimeCaseTests writes when
RECURRENT_ONNX_CASES names a folder (`make test` does this):

    CASES/<case>/model.onnx          the exported graph
    CASES/<case>/input.<name>.npy    one per graph input
    CASES/<case>/output.<name>.npy   Recurrent's own value of that graph output

For every case: onnx.checker.check_model(full_check=True) must pass, and ONNX Runtime (CPU) must
reproduce every output within TOLERANCE (max absolute difference). Prints the max error per case;
exits 1 if any case fails or if there are no cases. Needs: onnx, onnxruntime, numpy.

    python Scripts/check_onnx.py CASES
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

TOLERANCE = 1e-5


def check(folder):
    model_path = os.path.join(folder, "model.onnx")
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 14:
        raise AssertionError(f"opset {opset} < 14")
    files = sorted(os.listdir(folder))
    inputs = {f[len("input."):-len(".npy")]: np.load(os.path.join(folder, f)) for f in files if f.startswith("input.")}
    expected = {f[len("output."):-len(".npy")]: np.load(os.path.join(folder, f)) for f in files if f.startswith("output.")}
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    graph_inputs = {i.name for i in session.get_inputs()}
    if graph_inputs != set(inputs):
        raise AssertionError(f"graph inputs {sorted(graph_inputs)} but case inputs {sorted(inputs)}")
    names = [o.name for o in session.get_outputs()]
    if set(names) != set(expected):
        raise AssertionError(f"graph outputs {names} but case outputs {sorted(expected)}")
    got = dict(zip(names, session.run(names, inputs)))
    worst = 0.0
    for name in names:
        if got[name].shape != expected[name].shape:
            raise AssertionError(f"output {name}: runtime shape {got[name].shape}, Recurrent's {expected[name].shape}")
        if expected[name].size:
            worst = max(worst, float(np.max(np.abs(got[name].astype(np.float64) - expected[name].astype(np.float64)))))
    return worst, len(model.graph.node), opset


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    cases = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))) if os.path.isdir(root) else []
    if not cases:
        sys.exit(f"check_onnx: no cases in {root} (run the Swift tests with RECURRENT_ONNX_CASES={root})")
    failed = 0
    print(f"ONNX Runtime {ort.__version__}, onnx {onnx.__version__}: {len(cases)} exported models, tolerance {TOLERANCE:g}")
    for case in cases:
        try:
            worst, nodes, opset = check(os.path.join(root, case))
            status = "ok" if worst <= TOLERANCE else "FAIL"
            failed += status != "ok"
            print(f"  {status:4} {case:48} max |error| {worst:.2e}  ({nodes} nodes, opset {opset})")
        except Exception as error:  # a checker or runtime error fails the case, with its message
            failed += 1
            print(f"  FAIL {case:48} {type(error).__name__}: {error}")
    if failed:
        sys.exit(f"check_onnx: {failed} of {len(cases)} cases failed")
    print(f"check_onnx: all {len(cases)} cases within {TOLERANCE:g}")


if __name__ == "__main__":
    main()
