import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The packaged app's files without Electron: electron-builder's own file matching
 * (app-builder-lib's fileMatcher, as its platform packager calls it) applied to
 * electron-builder.yml's `files`, `extraResources` and `asarUnpack`, copied into a folder
 * laid out like an unpacked Linux package:
 *   <out>/resources/app/...     what goes into app.asar (a plain folder here)
 *   <out>/resources/...         extraResources: Electron's process.resourcesPath
 * Two stand-ins, both outside `files`: app/node_modules links to the checkout's (electron-builder
 * collects the production dependencies itself), and nothing is packed into an asar (plain Node
 * cannot read one), so asarUnpack is answered as a question: would this file be unpacked?
 */
const require = createRequire(import.meta.url);

interface FileMatcher {
  from: string;
  to: string;
  excludePatterns: unknown[] | null;
  computeParsedPatterns(result: unknown[], fromDir?: string): void;
  createFilter(): (file: string, stat: fs.Stats) => boolean;
}
interface MatcherOptions {
  macroExpander: (pattern: string) => string;
  customBuildOptions: Record<string, unknown>;
  globalOutDir: string;
  defaultSrc: string;
}
// app-builder-lib comes with electron-builder and ships no types we depend on.
const fileMatcher = require('app-builder-lib/out/fileMatcher') as {
  getMainFileMatchers(
    appDir: string,
    destination: string,
    macroExpander: MatcherOptions['macroExpander'],
    platformSpecificBuildOptions: Record<string, unknown>,
    platformPackager: unknown,
    outDir: string,
    isElectronCompile: boolean,
  ): FileMatcher[];
  getFileMatchers(config: unknown, name: string, destination: string, options: MatcherOptions): FileMatcher[] | null;
  copyFiles(matchers: FileMatcher[] | null, transformer: null, isUseHardLink: boolean): Promise<unknown>;
};
const yaml = require('yaml') as { parse(text: string): unknown };

export interface BuilderConfig {
  files: string[];
  asarUnpack: string[];
  extraResources: Array<{ from: string; to: string; filter?: string[] }>;
  directories: { output: string; buildResources?: string };
  linux: Record<string, unknown>;
  [key: string]: unknown;
}

export function readBuilderConfig(projectDir: string): BuilderConfig {
  const text = fs.readFileSync(path.join(projectDir, 'electron-builder.yml'), 'utf8');
  // No ${macro} is expanded below: a config that starts using them needs electron-builder's expander here.
  if (text.includes('${')) throw new Error('electron-builder.yml uses ${...} macros, which assemblePackagedApp does not expand');
  return yaml.parse(text) as BuilderConfig;
}

export interface PackagedApp {
  /** Stands for resources/app.asar. */
  appDir: string;
  /** Electron's process.resourcesPath in the package. */
  resourcesPath: string;
  /** Files in the app (app.asar), relative to appDir, sorted; node_modules left out. */
  appFiles: string[];
  /** Files beside it (extraResources), relative to resourcesPath, without the app, sorted. */
  resourceFiles: string[];
  /** Whether electron-builder would put this project file (relative path) in app.asar.unpacked. */
  isUnpacked(relativeFile: string): boolean;
}

/**
 * Assembles what electron-builder would take from `projectDir` into `outDir` (empty or
 * missing), by the project's electron-builder.yml or, to show what another would do, `config`.
 */
export async function assemblePackagedApp(
  projectDir: string,
  outDir: string,
  config = readBuilderConfig(projectDir),
): Promise<PackagedApp> {
  const resourcesPath = path.join(outDir, 'resources');
  const appDir = path.join(resourcesPath, 'app');
  const options: MatcherOptions = {
    macroExpander: (pattern) => pattern,
    customBuildOptions: config.linux,
    globalOutDir: path.resolve(projectDir, config.directories.output),
    defaultSrc: projectDir,
  };
  // What the platform packager's `info` holds that getMainFileMatchers reads.
  const packager = {
    info: {
      projectDir,
      buildResourcesDir: config.directories.buildResources ?? 'build',
      isPrepackedAppAsar: false,
      config,
      debugLogger: { isEnabled: false },
    },
  };
  const mainMatchers = fileMatcher.getMainFileMatchers(
    projectDir,
    appDir,
    options.macroExpander,
    config.linux,
    packager,
    options.globalOutDir,
    false,
  );
  const extraMatchers = fileMatcher.getFileMatchers(config, 'extraResources', resourcesPath, options) ?? [];
  // As the packager does: what goes to extraResources is left out of the app.
  const excludePatterns: unknown[] = [];
  for (const matcher of extraMatchers) matcher.computeParsedPatterns(excludePatterns, projectDir);
  if (excludePatterns.length > 0) for (const matcher of mainMatchers) matcher.excludePatterns = excludePatterns;

  fs.mkdirSync(appDir, { recursive: true });
  await fileMatcher.copyFiles(mainMatchers, null, false);
  await fileMatcher.copyFiles(extraMatchers, null, false);
  const appFiles = listFiles(appDir);
  const resourceFiles = listFiles(resourcesPath).filter((file) => !file.startsWith(`app${path.sep}`));
  fs.symlinkSync(path.join(projectDir, 'node_modules'), path.join(appDir, 'node_modules'), 'dir');

  const unpack = fileMatcher.getFileMatchers(config, 'asarUnpack', appDir, options)?.[0]?.createFilter() ?? null;
  return {
    appDir,
    resourcesPath,
    appFiles,
    resourceFiles,
    isUnpacked: (relativeFile) => {
      const file = path.join(projectDir, relativeFile);
      return unpack !== null && unpack(file, fs.statSync(file));
    },
  };
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * A project folder that is the checkout with a `dist/` of its own: every other top-level
 * entry is a link to the checkout's (package.json a copy: electron-builder copies files,
 * not links). Packaging the checkout itself would need its shared dist/ rebuilt for production.
 */
export function stageProject(checkout: string, stageDir: string): string {
  fs.mkdirSync(path.join(stageDir, 'dist'), { recursive: true });
  for (const name of fs.readdirSync(checkout)) {
    if (name === 'dist' || name === 'release') continue;
    if (name === 'package.json') fs.copyFileSync(path.join(checkout, name), path.join(stageDir, name));
    else fs.symlinkSync(path.join(checkout, name), path.join(stageDir, name));
  }
  return stageDir;
}
