/**
 * Ids of persisted results (`.twb/runs/<id>.json`): a compact UTC time stamp, the model's name and
 * what was done, so ids sort by time and name files a user can recognise.
 */
export function resultId(at: Date, modelName: string, what: string): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const slug = modelName.replace(/^builtin:/, '').replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 48);
  return `${stamp}-${slug}-${what}`;
}
