/** Timeline lanes of a run, built once per run and kept while the run is. */
import type { InferenceRun } from '../../../engine/src/schema/run';
import { buildLanes, Lane } from '../charts/timeline-lanes';

const cache = new WeakMap<InferenceRun, Lane[]>();

export function runLanes(run: InferenceRun): Lane[] {
  let lanes = cache.get(run);
  if (!lanes) cache.set(run, (lanes = buildLanes(run.trace)));
  return lanes;
}
