/** The formats a tuning report exports to. Pure, so the extension and the webview can list them. */
import { TwbError } from '../util/errors';

export const TUNING_EXPORT_FORMATS = ['twb', 'ort', 'ort-python', 'ort-js', 'ort-model', 'report'] as const;
export type TuningExportFormat = (typeof TUNING_EXPORT_FORMATS)[number];

/** One line each, for pickers and help. */
export const TUNING_EXPORT_HELP: Record<TuningExportFormat, string> = {
  twb: 'twb config of the best trial (twb profile --config reproduces it)',
  ort: 'ONNX Runtime session options for the best model (JSON)',
  'ort-python': 'Python snippet opening the best model with those options',
  'ort-js': 'JavaScript snippet (onnxruntime-node) opening the best model with those options',
  'ort-model': 'the best model as ONNX Runtime optimizes it (.onnx)',
  report: 'self-contained HTML report: trials, Pareto front, best and its held-back check',
};

/** `format`, checked: a usage error naming the formats a tuning report has otherwise. */
export function tuningExportFormat(format: string): TuningExportFormat {
  if ((TUNING_EXPORT_FORMATS as readonly string[]).includes(format)) return format as TuningExportFormat;
  throw new TwbError('usage', `--format ${format} does not apply to a tuning report; from one: ${TUNING_EXPORT_FORMATS.join(', ')}`);
}
