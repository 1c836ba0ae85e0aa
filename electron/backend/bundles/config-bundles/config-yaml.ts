import { Document } from 'yaml';
import { describePath, offsetOf, parseLocatedYaml, toValue, type YamlLimits } from '../../../../agents-runtime/src/wire';
import { CONFIG_DOCUMENT_FORMAT, ConfigDocumentSchema, type ConfigDocument } from './config-document';
import { configExportInvalidError, configFormatNewerError } from './config-bundle-errors';

/**
 * Bigger than a configuration layer's limits: a whole inventory with every host's merged
 * configuration. Aliases count by what they expand to, so a small hostile text stays small.
 */
export const CONFIG_DOCUMENT_LIMITS: YamlLimits = { maxBytes: 16 * 1024 * 1024, maxNodes: 1_000_000, maxDepth: 64 };

const HEADER = '# SutazAI configuration export: hosts, host keys, installs and trusted bundle keys; no secrets.\n';

/**
 * The document as YAML that diffs well under version control: every mapping's keys in
 * sorted order, lists in the order the exporter sorted them (by name), no line folding,
 * so the same store always gives the same bytes.
 */
export function configDocumentToYaml(document: ConfigDocument): string {
  const doc = new Document(document, { sortMapEntries: true });
  return HEADER + doc.toString({ lineWidth: 0, indentSeq: true });
}

/**
 * Reads a document written by `configDocumentToYaml` (or edited by hand since): a syntax or
 * schema error names `file:line:column`; a document of a newer format is refused as such.
 */
export function parseConfigDocument(text: string, file: string): ConfigDocument {
  const yaml = parseLocatedYaml(text, file, CONFIG_DOCUMENT_LIMITS);
  if (yaml.doc === undefined) throw configExportInvalidError(file, yaml.syntaxError);
  const value: unknown = toValue(yaml.doc);
  const format = (value as { sutazai_config?: unknown } | null)?.sutazai_config;
  if (typeof format === 'number' && format > CONFIG_DOCUMENT_FORMAT) throw configFormatNewerError(file, format);
  const parsed = ConfigDocumentSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path as Array<string | number>;
    throw configExportInvalidError(file, `${yaml.where(offsetOf(yaml.doc, path))}: ${describePath(path)}: ${issue.message}`);
  }
  return parsed.data;
}
