import * as vscode from 'vscode';
import { EXPORT_FORMATS, exportDistributed, ExportFormat, settingsFromPlan } from '../../engine/src/export/distributed';
import type { MemoryPlan, PipelinePlan } from '../../engine/src/schema/parallel';
import { writeFileAtomic } from '../../engine/src/util/atomic-write';
import { documentOf, RunStore } from './run-store';

const FORMAT_HELP: Record<ExportFormat, string> = {
  deepspeed: 'ds_config.json: ZeRO stage, precision, batch sizes, pipeline stages',
  accelerate: 'accelerate config YAML (DeepSpeed plugin or multi-GPU)',
  torchrun: 'launch script with the torchrun command line',
  pipelining: 'Python module: torch.distributed.pipelining stages and schedule class',
};

/**
 * "Export Distributed Config…": a kept pipeline or memory plan → a DeepSpeed, accelerate, torchrun
 * or PyTorch-pipelining file the user reviews before taking it to a cluster. Nothing runs.
 */
export async function exportDistributedConfig(store: RunStore, given?: PipelinePlan | MemoryPlan): Promise<string | undefined> {
  let plan = given;
  if (!plan) {
    const plans = (await store.list()).filter((e) => e.kind === 'pipeline' || e.kind === 'memory-plan');
    if (plans.length === 0) {
      void vscode.window.showInformationMessage('Transformer Workbench: no pipeline or memory plan kept yet; run Plan Pipeline… or Plan Memory (ZeRO)… first.');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      plans.map((e) => {
        const d = documentOf(e) as PipelinePlan | MemoryPlan;
        return { label: d.kind === 'pipeline' ? `Pipeline ${d.model} · ${d.schedule} · P${d.stages} × M${d.microbatches}` : `Memory plan ${d.model} · ${d.input.gpus} GPUs · ZeRO ${d.input.zeroStage}`, detail: new Date(d.createdAt).toLocaleString(), plan: d };
      }),
      { title: 'Export Distributed Config', placeHolder: 'From which plan?' },
    );
    if (!picked) return undefined;
    plan = picked.plan;
  }
  const format = await vscode.window.showQuickPick(
    EXPORT_FORMATS.map((f) => ({ label: f, description: FORMAT_HELP[f], value: f })),
    { title: 'Export Distributed Config', placeHolder: 'For which tool?' },
  );
  if (!format) return undefined;
  const out = exportDistributed(settingsFromPlan(plan), format.value);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({ defaultUri: folder ? vscode.Uri.joinPath(folder, out.fileName) : undefined, saveLabel: 'Export' });
  if (!target) return undefined;
  await writeFileAtomic(target.fsPath, out.text);
  await vscode.window.showTextDocument(target);
  for (const w of out.warnings) void vscode.window.showWarningMessage(`Transformer Workbench: ${w}`);
  return target.fsPath;
}
