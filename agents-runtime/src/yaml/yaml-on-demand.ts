/**
 * The yaml library as the runtime's bundle has it (build-runtime.mjs puts this module in place of
 * the `yaml` package for the daemon alone): the same functions and classes, loaded when a YAML
 * text is read and let go once the event loop turns.
 *
 * Why: the daemon reads YAML at start-up and when an operator reloads a manifest, config or
 * access policy, and at no other time, while a library loaded once stays resident for the
 * daemon's life: its source text (160 KB) and the closures, maps and scope data of its ~700
 * functions. Let go, the daemon's heap is 354 KB smaller and its private memory 0.2 to 0.3 MB
 * (of ~10 MB; issue 13's footprint, 10 children). The bundle carries the library compressed
 * (~50 KB); each read inflates and compiles it again (~15 ms on this machine, once per reload). Documents, nodes and line counters made by
 * an instance that was let go keep working: the library tells its nodes apart by `Symbol.for`
 * keys, which every instance shares, and each object keeps its own class.
 *
 * What a caller must not do is keep an object of the library past the read (a document, a line
 * counter): that keeps the whole instance alive. locate-issue.ts names positions without one.
 */
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { inflateRawSync } from 'node:zlib';
import type * as Yaml from 'yaml';

/** The library's CommonJS bundle, deflated and in base64 (build-runtime.mjs). */
declare const __SUTAZAI_YAML_LIBRARY__: string;

type YamlLibrary = typeof Yaml;

let loaded: YamlLibrary | undefined;

function library(): YamlLibrary {
  if (loaded !== undefined) return loaded;
  // ASCII only (the bundle is built with charset: 'ascii'), so latin1 decodes it exactly, one byte a character.
  const source = inflateRawSync(Buffer.from(__SUTAZAI_YAML_LIBRARY__, 'base64')).toString('latin1');
  const module = { exports: {} as YamlLibrary };
  // The library requires only Node's built-ins (buffer, process).
  const run = vm.compileFunction(source, ['exports', 'require', 'module'], { filename: 'yaml-library.cjs' });
  run(module.exports, createRequire(__filename), module);
  loaded = module.exports;
  // Every read is synchronous: once this turn of the event loop ends, nothing of it needs the instance.
  setImmediate(() => {
    loaded = undefined;
  });
  return loaded;
}

export const parseDocument: YamlLibrary['parseDocument'] = (...args: Parameters<YamlLibrary['parseDocument']>) =>
  library().parseDocument(...args);
export const isAlias: YamlLibrary['isAlias'] = (node: unknown): node is Yaml.Alias => library().isAlias(node);
export const isMap: YamlLibrary['isMap'] = <K, V>(node: unknown): node is Yaml.YAMLMap<K, V> => library().isMap(node);
export const isScalar: YamlLibrary['isScalar'] = <T>(node: unknown): node is Yaml.Scalar<T> => library().isScalar(node);
export const isSeq: YamlLibrary['isSeq'] = <T>(node: unknown): node is Yaml.YAMLSeq<T> => library().isSeq(node);

/** `new LineCounter()` and `new Parser()`: a constructor that returns the loaded library's instance. */
export const LineCounter = function LineCounter() {
  return new (library().LineCounter)();
} as unknown as YamlLibrary['LineCounter'];
export const Parser = function Parser(...args: ConstructorParameters<YamlLibrary['Parser']>) {
  return new (library().Parser)(...args);
} as unknown as YamlLibrary['Parser'];
