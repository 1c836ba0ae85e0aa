import { parseHostList, type ParsedImport } from '../hosts/import-host-list';
import { readYamlLayerData, type LayerSource, type YamlLayerOutcome } from '../config/yaml-layer';

/**
 * The YAML a client can send, as work a worker thread does: each task is pure, takes and
 * returns plain data (what a worker can post), and never throws for bad text.
 */
export type YamlTask = { kind: 'config-layer'; text: string; source: LayerSource } | { kind: 'host-list'; text: string; fileName: string };

export type YamlTaskResult<T extends YamlTask> = T extends { kind: 'config-layer' } ? YamlLayerOutcome : ParsedImport;

export function runYamlTask<T extends YamlTask>(task: T): YamlTaskResult<T> {
  switch (task.kind) {
    case 'config-layer':
      return readYamlLayerData(task.text, task.source) as YamlTaskResult<T>;
    case 'host-list':
      return parseHostList(task.text, task.fileName) as YamlTaskResult<T>;
  }
  throw new Error(`unknown YAML task ${(task as { kind: string }).kind}`);
}

/** A short name for the task in errors: the file or text it reads. */
export function describeTask(task: YamlTask): string {
  return task.kind === 'config-layer' ? task.source.file : task.fileName;
}
