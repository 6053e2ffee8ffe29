/**
 * What the trace views need from their host beyond the document: a way to open source frames. The
 * views work without it (the offline report), showing frames as plain text.
 */
import type { TraceFrame } from '../../../engine/src/schema/trace';

export interface TraceViewContext {
  /** Asks the host to open a frame's file at its line (the host checks the file is in the workspace); absent in the offline report. */
  openSource?(frame: TraceFrame): void;
}
