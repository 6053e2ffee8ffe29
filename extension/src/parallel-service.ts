import * as vscode from 'vscode';
import type { ProgressEvent } from '../../engine/src/protocol/engine';
import type { PipelineProgress, PipelineRequest } from '../../engine/src/pipeline/planner';
import type { MemoryPlan, PipelinePlan } from '../../engine/src/schema/parallel';
import { validatePipelinePlan } from '../../engine/src/schema/validate-parallel';
import { EngineClient } from './engine-client';
import { runEngineJob } from './engine-job';
import { JobGate, RefusedError } from './job-gate';
import { RunStore } from './run-store';

export const UNTRUSTED_PIPELINE_MESSAGE = 'Running models is disabled in untrusted workspaces. Trust this workspace to profile or measure a pipeline.';

/**
 * Pipeline plans through the engine (profiling the model for its costs, and with `measure` running
 * the stages in workers): shown like every other job, refused while another runs, since a measured
 * pipeline and a profile would skew each other. Plans are validated and kept in the run store.
 * Memory plans are pure arithmetic and are only kept here.
 */
export class ParallelService {
  constructor(
    private readonly engine: EngineClient,
    private readonly store: RunStore,
    private readonly statusBar: vscode.StatusBarItem,
    private readonly gate: JobGate,
  ) {}

  async plan(request: PipelineRequest, opts: { signal?: AbortSignal; onProgress?: (p: ProgressEvent) => void } = {}): Promise<PipelinePlan> {
    // Plans from a kept run with uniform costs run nothing; everything else runs the model.
    if (!vscode.workspace.isTrusted && (request.measure || !/\.json$/i.test(request.source))) throw new RefusedError(UNTRUSTED_PIPELINE_MESSAGE);
    const label = `${request.measure ? 'Measuring' : 'Planning'} a ${request.stages}-stage pipeline of ${request.source.replace(/^builtin:/, '')}`;
    const raw = await this.gate.run(this, label, opts.signal, (controller) =>
      runEngineJob(this.statusBar, {
        title: label,
        label: 'Pipeline',
        phases: { costs: [0, request.measure ? 0.3 : 1], measure: [0.3, 1] },
        controller,
        onProgress: opts.onProgress,
        send: (signal, onProgress) =>
          this.engine.request('pipeline/plan', { request }, {
            signal,
            onEvent: (event, params) => {
              if (event !== 'pipeline/progress') return;
              const p = params as PipelineProgress;
              onProgress({ requestId: 0, phase: p.phase, done: Math.round(p.fraction * 100), total: 100, message: p.message });
            },
          }),
      }),
    );
    const plan = validatePipelinePlan(raw);
    await this.store.save(plan);
    return plan;
  }

  async keepMemoryPlan(plan: MemoryPlan): Promise<void> {
    await this.store.save(plan);
  }
}
