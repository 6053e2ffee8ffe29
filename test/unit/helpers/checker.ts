import { spawnSync } from 'node:child_process';

/** Debian's python3-onnx installs for /usr/bin/python3, which may not be the python3 on PATH. */
const PYTHON = '/usr/bin/python3';

/** Whether `onnx.checker` is importable; CI installs it, so there a missing checker is a failure. */
export function checkerAvailable(): boolean {
  return spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;
}

/** Runs `onnx.checker.check_model(path, full_check=True)`; returns '' when valid, else the error text. */
export function checkModel(file: string): string {
  const code = 'import sys, onnx\nm = onnx.load(sys.argv[1])\nonnx.checker.check_model(m, full_check=True)\nprint("ok")';
  const r = spawnSync(PYTHON, ['-c', code, file], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === 'ok' ? '' : `${r.stderr}${r.stdout}`.trim() || `exit ${r.status}`;
}
