import * as os from 'node:os';
import { RunEnv } from '../schema/run';
import { ortVersion } from './ort';

/** The machine and runtime a measurement was made on, as every persisted result records it. */
export function runEnv(executionProvider: string, threads: number): RunEnv {
  return {
    executionProvider,
    threads,
    ortVersion: ortVersion(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpuCount: os.availableParallelism(),
    platform: `${process.platform}-${process.arch}`,
    nodeVersion: process.version,
  };
}
