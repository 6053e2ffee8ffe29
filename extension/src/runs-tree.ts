import * as vscode from 'vscode';
import { CompressionReport } from '../../engine/src/schema/compression';
import { InferenceRun } from '../../engine/src/schema/run';
import { formatBytes, formatPercent } from '../../engine/src/util/format';
import { jobLabel } from './compress-target';
import { RunStore, StoredEntry } from './run-store';
import { TrainingRun, VariantsReport } from '../../engine/src/schema/training';
import { MemoryPlan, PipelinePlan } from '../../engine/src/schema/parallel';
import { SuggestionsReport } from '../../engine/src/schema/advice';
import type { TuningReport } from '../../engine/src/schema/tuning';
import type { TraceRun } from '../../engine/src/schema/trace';

/** `1.42× · 31.2 dB`: a report's headline figures (speedup, output SQNR). */
export function reportHeadline(r: CompressionReport): string {
  return `${r.speedup.toFixed(2)}× · ${r.output.sqnrDb === null ? 'exact' : `${r.output.sqnrDb.toFixed(1)} dB`}`;
}

/**
 * The "Runs" view: everything kept in `.twb/runs/`, newest first — inference runs with their p50
 * and peak memory, quantization and pruning reports with their speedup and output SQNR, training
 * runs with their accuracy and step time, variant comparisons with their variants.
 */
export class RunsTreeProvider implements vscode.TreeDataProvider<StoredEntry> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly store: RunStore) {
    store.onDidChange(() => this.changed.fire());
  }

  getChildren(element?: StoredEntry): Promise<StoredEntry[]> | StoredEntry[] {
    return element ? [] : this.store.list();
  }

  getTreeItem(item: StoredEntry): vscode.TreeItem {
    const t = treeItem(item);
    t.command = { command: 'transformerWorkbench.openRun', title: 'Open Run', arguments: [item] };
    return t;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function treeItem(item: StoredEntry): vscode.TreeItem {
  switch (item.kind) {
    case 'compression':
      return reportItem(item.report);
    case 'training':
      return trainingItem(item.run);
    case 'variants':
      return variantsItem(item.report);
    case 'pipeline':
      return pipelineItem(item.plan);
    case 'memory-plan':
      return memoryPlanItem(item.plan);
    case 'suggestions':
      return suggestionsItem(item.report);
    case 'tuning':
      return tuningItem(item.report);
    case 'trace':
      return traceItem(item.run);
    case 'inference':
      return runItem(item.run);
  }
}

const scheduleLabel = (p: PipelinePlan) => (p.schedule === 'interleaved' ? `interleaved:${p.chunks}` : p.schedule);

function pipelineItem(p: PipelinePlan): vscode.TreeItem {
  const t = new vscode.TreeItem(`Pipeline ${p.model.replace(/^builtin:/, '')} · ${scheduleLabel(p)}`);
  t.id = p.id;
  t.description = `P${p.stages} × M${p.microbatches} · bubble ${formatPercent(p.bubbleFraction)}${p.measured ? ` · measured ${formatPercent(p.measured.bubbleFraction)}` : ''}`;
  t.tooltip = new vscode.MarkdownString(
    [
      `**Pipeline plan of ${p.model}** — ${new Date(p.createdAt).toLocaleString()}`,
      `- ${scheduleLabel(p)}, ${p.stages} stages, ${p.microbatches} micro-batches, hop ${p.commUs} µs`,
      `- simulated bubble ${formatPercent(p.bubbleFraction)} (closed form ${formatPercent(p.closedFormBubble)}), peak in flight ${p.peakInFlight}`,
      `- costs: ${p.costSource.kind}${p.costSource.estimated.length ? ' (partly estimated)' : ''}`,
      ...(p.measured ? [`- measured forward pipeline: bubble ${formatPercent(p.measured.bubbleFraction)} vs simulated ${formatPercent(p.measured.simulated.bubbleFraction)}`] : []),
    ].join('\n'),
  );
  t.iconPath = new vscode.ThemeIcon('layers');
  t.contextValue = 'twbPipeline';
  return t;
}

function memoryPlanItem(p: MemoryPlan): vscode.TreeItem {
  const t = new vscode.TreeItem(`Memory plan · ${p.model.replace(/^builtin:/, '')}`);
  t.id = p.id;
  t.description = `${p.input.gpus} GPUs · ZeRO ${p.input.zeroStage} · ${formatBytes(p.bytesPerGpu)}/GPU`;
  t.tooltip = new vscode.MarkdownString(
    [`**Memory plan of ${p.model}** — ${new Date(p.createdAt).toLocaleString()}`, ...p.byStage.map((s) => `- ZeRO ${s.zeroStage}: ${formatBytes(s.bytesPerGpu)} per GPU`)].join('\n'),
  );
  t.iconPath = new vscode.ThemeIcon('database');
  t.contextValue = 'twbMemoryPlan';
  return t;
}

function suggestionsItem(r: SuggestionsReport): vscode.TreeItem {
  const t = new vscode.TreeItem(`Suggestions for ${r.source.model.replace(/^builtin:/, '')}`);
  t.id = r.id;
  const top = r.suggestions[0];
  t.description = top ? `${r.suggestions.length} · best: ${top.id}${top.estimate.speedup !== null ? ` ${top.estimate.speedup.toFixed(2)}× (est.)` : ''}` : 'nothing to suggest';
  t.tooltip = new vscode.MarkdownString(
    [`**Suggestions for ${r.source.model}** (${r.source.kind} ${r.source.id}) — ${new Date(r.createdAt).toLocaleString()}`, ...r.suggestions.map((s) => `- ${s.title}: ${s.estimate.speedup !== null ? `${s.estimate.speedup.toFixed(2)}× estimated` : 'speed not estimated'}, accuracy risk ${s.estimate.accuracyRisk}`)].join('\n'),
  );
  t.iconPath = new vscode.ThemeIcon('lightbulb');
  t.contextValue = 'twbSuggestions';
  return t;
}

function traceItem(r: TraceRun): vscode.TreeItem {
  const t = new vscode.TreeItem(`Trace ${r.source.name}`);
  t.id = r.id;
  const top = r.opTypes[0];
  t.description = `${r.source.format} · ${(r.spanUs / 1000).toFixed(1)} ms${r.gpu ? ` · GPU ${formatPercent(r.gpu.devices[0]?.utilization ?? 0)} busy` : ''}`;
  t.tooltip = new vscode.MarkdownString(
    [
      `**Imported trace ${r.source.name}** (${r.source.format}) — imported ${new Date(r.createdAt).toLocaleString()}`,
      `- ${r.source.events} events, ${r.opTypes.length} host op names, ${r.kernels.length} kernel names, ${r.steps.length} steps`,
      ...(top ? [`- most self time: ${top.opType} (${formatPercent(top.selfShare)})`] : []),
      ...(r.distributed ? [`- rank ${r.distributed.rank} of ${r.distributed.worldSize ?? '?'} (${r.distributed.backend ?? 'backend not recorded'})`] : []),
      ...(r.memory ? [`- memory peak ${formatBytes(r.memory.peakBytes)} on ${r.memory.device}`] : []),
    ].join('\n'),
  );
  t.iconPath = new vscode.ThemeIcon('pulse');
  t.contextValue = 'twbTrace';
  return t;
}

function tuningItem(r: TuningReport): vscode.TreeItem {
  const t = new vscode.TreeItem(`Tuning ${r.model.name.replace(/^builtin:/, '')}`);
  t.id = r.id;
  const best = r.trials.find((x) => x.id === r.best);
  t.description = best ? `best ${best.id} ${best.speedup?.toFixed(2)}× · ${r.trials.length} trials` : `no trial within budget · ${r.trials.length} trials`;
  t.tooltip = new vscode.MarkdownString(
    [
      `**Tuning of ${r.model.source}** — ${new Date(r.createdAt).toLocaleString()}`,
      `- ${r.trials.length} trials, ${r.pareto.length} on the Pareto front; stopped: ${r.stopped.reason}`,
      ...(best ? [`- best: ${best.id}, ${best.speedup?.toFixed(2)}×, ${formatBytes(best.sizeBytes ?? 0)}, accuracy ${formatPercent(best.accuracy ?? 0)}`] : []),
      ...(r.bestHeldBack ? [`- held-back check: ${r.bestHeldBack.withinBudget ? 'within budget' : 'OVER budget'} (drop ${formatPercent(r.bestHeldBack.accuracyDrop)})`] : []),
    ].join('\n'),
  );
  t.iconPath = new vscode.ThemeIcon('settings-gear');
  t.contextValue = 'twbTuning';
  return t;
}

function runItem(r: InferenceRun): vscode.TreeItem {
  const t = new vscode.TreeItem(`${r.model.name} · ${r.env.executionProvider}`);
  t.id = r.id;
  t.description = `p50 ${r.latencyMs.p50.toFixed(2)} ms · peak ${formatBytes(r.memory.peakBytes)}`;
  t.tooltip = new vscode.MarkdownString(
    [
      `**${r.model.name}** — ${new Date(r.createdAt).toLocaleString()}`,
      `- ${r.env.executionProvider}, ${r.config.threads} threads, opt ${r.config.optLevel}, batch ${r.config.batch} × seq ${r.config.seq}`,
      `- latency p50 ${r.latencyMs.p50.toFixed(2)} ms · p90 ${r.latencyMs.p90.toFixed(2)} ms`,
      `- ${(r.compute.flops / 1e9).toFixed(2)} GFLOP per run · ${r.compute.gflops.toFixed(1)} GFLOP/s`,
      `- peak ${formatBytes(r.memory.peakBytes)} · weights ${formatBytes(r.memory.weightsBytes)}`,
    ].join('\n'),
  );
  t.iconPath = new vscode.ThemeIcon('pulse');
  t.contextValue = 'twbRun';
  return t;
}

function reportItem(r: CompressionReport): vscode.TreeItem {
  const t = new vscode.TreeItem(jobLabel({ model: r.model.source, mode: r.config.mode, amount: r.config.amount }));
  t.id = r.id;
  t.description = `${reportHeadline(r)}${r.config.exclude.length ? ` · ${r.config.exclude.length} kept fp32` : ''}`;
  const lines = [
    `**${r.kind === 'pruning' ? 'Pruning' : 'Quantization'}: ${r.config.mode}** of ${r.model.name} — ${new Date(r.createdAt).toLocaleString()}`,
    `- size ${formatBytes(r.sizeBytes.before)} → ${formatBytes(r.sizeBytes.after)}`,
    `- latency p50 ${r.latencyMs.before.toFixed(2)} → ${r.latencyMs.after.toFixed(2)} ms (${r.speedup.toFixed(2)}×), ${r.env.executionProvider} ×${r.config.threads}`,
    `- output SQNR ${r.output.sqnrDb === null ? 'exact' : `${r.output.sqnrDb.toFixed(1)} dB`} · cosine ${r.output.cosine.toFixed(5)} · top-1 agreement ${formatPercent(r.output.top1Agreement)}`,
  ];
  if (r.eval) lines.push(`- accuracy ${formatPercent(r.eval.accuracyBefore)} → ${formatPercent(r.eval.accuracyAfter)}`);
  lines.push(`- ${r.layers.length} node(s) rewritten, ${r.skipped.length} skipped, ${r.config.exclude.length} kept in fp32`);
  t.tooltip = new vscode.MarkdownString(lines.join('\n'));
  t.iconPath = new vscode.ThemeIcon(r.kind === 'pruning' ? 'filter' : 'zap');
  t.contextValue = 'twbCompression';
  return t;
}

function trainingItem(r: TrainingRun): vscode.TreeItem {
  const last = r.accuracy[r.accuracy.length - 1];
  const variant = `${r.variant.attention}${r.variant.shareLayers !== 'none' ? ` · share ${r.variant.shareLayers}` : ''}`;
  const t = new vscode.TreeItem(`Training ${r.model.replace(/^builtin:/, '')} · ${r.config.task}`);
  t.id = r.id;
  t.description = `${last ? `acc ${formatPercent(last.value)} · ` : ''}${r.stepMs.p50.toFixed(0)} ms/step · ${variant}${r.cancelled ? ' · cancelled' : ''}`;
  t.tooltip = new vscode.MarkdownString(
    [
      `**Training ${r.model}** on ${r.config.task} — ${new Date(r.createdAt).toLocaleString()}`,
      `- ${variant}, ${r.params.toLocaleString()} parameters, backend ${r.backend}`,
      `- ${r.config.steps} steps of batch ${r.config.batch} × seq ${r.config.seq}; step p50 ${r.stepMs.p50.toFixed(1)} ms · ${Math.round(r.tokensPerSecond)} tokens/s`,
      `- ${r.accuracyMetric}: ${last ? formatPercent(last.value) : 'not evaluated'}${r.accuracyBar !== undefined ? ` (bar ${formatPercent(r.accuracyBar)})` : ''}`,
      `- peak memory ${formatBytes(r.memory.peakBytes)}`,
    ].join('\n'),
  );
  t.iconPath = new vscode.ThemeIcon('mortar-board');
  t.contextValue = 'twbTraining';
  return t;
}

function variantsItem(r: VariantsReport): vscode.TreeItem {
  const t = new vscode.TreeItem(`Variants of ${r.model.replace(/^builtin:/, '')}`);
  t.id = r.id;
  t.description = r.variants.map((v) => v.label).join(', ');
  t.tooltip = new vscode.MarkdownString(
    [`**Structural variants of ${r.model}** — ${new Date(r.createdAt).toLocaleString()}`, `- seq ${r.config.seqs.join(', ')} · batch ${r.config.batch} · backend ${r.backend}`, ...r.variants.map((v) => `- ${v.label}: ${v.error ?? `${v.stepMs.toFixed(0)} ms/step, peak ${formatBytes(v.peakBytes)}`}`)].join('\n'),
  );
  t.iconPath = new vscode.ThemeIcon('split-horizontal');
  t.contextValue = 'twbVariants';
  return t;
}
