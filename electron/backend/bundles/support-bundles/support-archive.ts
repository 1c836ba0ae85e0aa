import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';
import { TarFormatError } from '../tar-format-error';
import { readTar } from '../tar-reader';
import { fileSink, TarWriter } from '../tar-writer';
import { supportBundleInvalidError, supportBundleNewerError, supportBundleTooLargeError, supportOutputExistsError } from './support-errors';

/** The format this app writes and the newest it reads. */
export const SUPPORT_FORMAT = 1;
const MANIFEST = 'manifest.json';
/** The most of one file inside a bundle this app reads (a log of 64 MiB and its JSON around it). */
const MAX_FILE_BYTES = 128 * 1024 * 1024;
/** The most of all files together. */
const MAX_TOTAL_BYTES = 1024 * 1024 * 1024;
/**
 * What reading keeps in memory of a bundle (anyone's file): a JSON file whole up to this
 * (the analyzers parse it; more is refused, naming it); of any other file (a log) only its
 * end, which is all the analyzers quote. The rest is streamed through the digest check.
 */
export const MAX_KEPT_JSON_BYTES = 16 * 1024 * 1024;
export const KEPT_TAIL_BYTES = 256 * 1024;
/** All that is kept, together; and the most files a manifest may list. */
const MAX_KEPT_TOTAL_BYTES = 128 * 1024 * 1024;
const MAX_FILES = 20_000;
const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

export const SupportManifestSchema = z.object({
  kind: z.literal('sutazai-support-bundle'),
  format: z.number().int().positive(),
  targetName: z.string(),
  // Within what a Date holds (±8.64e15 ms): a reader prints it as a date.
  collectedAtMs: z.number().int().min(0).max(8.64e15),
  versions: z.record(z.string(), z.string()),
  files: z.array(z.object({ path: z.string(), bytes: z.number().int().nonnegative(), sha256: z.string() })),
  redaction: z.object({
    addresses: z.boolean(),
    hostNames: z.boolean(),
    rules: z.array(z.string()),
    countsByRule: z.record(z.string(), z.number().int().nonnegative()),
  }),
  gaps: z.array(z.string()),
});
export type SupportManifest = z.infer<typeof SupportManifestSchema>;

/**
 * Writes the bundle: manifest.json first (what is inside, each file's digest, which rules
 * redacted it, what could not be collected), then each file, as one ustar archive. It goes
 * to a temporary name and is renamed into place when whole, so a file at `file` is never
 * a partial bundle; an existing file is refused.
 */
export async function writeSupportArchive(
  file: string,
  manifest: Omit<SupportManifest, 'kind' | 'format' | 'files'>,
  files: ReadonlyArray<{ path: string; text: string }>,
): Promise<{ bytes: number; sha256: string }> {
  if (fs.existsSync(file)) throw supportOutputExistsError(file);
  const bodies = files.map((f) => ({ path: f.path, body: Buffer.from(f.text, 'utf8') }));
  const full: SupportManifest = {
    kind: 'sutazai-support-bundle',
    format: SUPPORT_FORMAT,
    ...manifest,
    files: bodies.map((f) => ({ path: f.path, bytes: f.body.length, sha256: sha256(f.body) })),
  };
  const partial = `${file}.partial-${process.pid}`;
  const handle = await fs.promises.open(partial, 'wx', 0o600);
  const digest = createHash('sha256');
  try {
    const sink = fileSink(handle);
    const tar = new TarWriter(async (chunk) => {
      digest.update(chunk);
      await sink(chunk);
    });
    const mtime = Math.floor(manifest.collectedAtMs / 1000);
    const add = (name: string, body: Buffer) => tar.addFile(name, { mode: 0o600, mtime, size: body.length }, body);
    await add(MANIFEST, Buffer.from(`${JSON.stringify(full, null, 2)}\n`));
    for (const { path, body } of bodies) await add(path, body);
    await tar.finish();
    await handle.sync();
    await handle.close();
    // link, not rename: a file that appeared meanwhile is still never overwritten.
    await fs.promises.link(partial, file).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EEXIST' ? supportOutputExistsError(file) : error;
    });
    return { bytes: tar.size, sha256: digest.digest('hex') };
  } finally {
    await handle.close().catch(() => undefined);
    await fs.promises.rm(partial, { force: true });
  }
}

export interface SupportArchive {
  manifest: SupportManifest;
  /** Each file's text by its path: JSON files whole, others their last KEPT_TAIL_BYTES (from a line's start). */
  files: Map<string, string>;
}

/**
 * Reads a bundle, checking every file against the manifest's digest as it streams by: a
 * damaged, cut or foreign file is refused. Memory stays bounded whatever the file claims:
 * the manifest and each JSON file up to their limits (more is SUPPORT_BUNDLE_TOO_LARGE),
 * every other file's end only.
 */
export async function readSupportArchive(file: string): Promise<SupportArchive> {
  let manifest: SupportManifest | null = null;
  let listedByPath: Map<string, SupportManifest['files'][number]> | undefined;
  const files = new Map<string, string>();
  let total = 0;
  let kept = 0;
  try {
    for await (const entry of readTar(fs.createReadStream(file))) {
      if (entry.type !== 'file') continue;
      if (entry.size > MAX_FILE_BYTES) throw supportBundleTooLargeError(file, entry.name, MAX_FILE_BYTES);
      total += entry.size;
      if (total > MAX_TOTAL_BYTES) throw supportBundleTooLargeError(file, 'all its files together', MAX_TOTAL_BYTES);
      if (manifest === null) {
        if (entry.name !== MANIFEST) throw supportBundleInvalidError(file, `it starts with ${entry.name}, not ${MANIFEST}`);
        if (entry.size > MAX_MANIFEST_BYTES) throw supportBundleTooLargeError(file, MANIFEST, MAX_MANIFEST_BYTES);
        const chunks: Buffer[] = [];
        for await (const chunk of entry.body) chunks.push(chunk);
        manifest = parseManifest(file, Buffer.concat(chunks));
        if (manifest.files.length > MAX_FILES)
          throw supportBundleInvalidError(
            file,
            `its manifest lists ${manifest.files.length} files, more than the ${MAX_FILES} a bundle holds`,
          );
        continue;
      }
      // One lookup per member (a bundle may list 20,000; uploads reach this from web mode).
      listedByPath ??= new Map(manifest.files.map((f) => [f.path, f]));
      const listed = listedByPath.get(entry.name);
      if (!listed) throw supportBundleInvalidError(file, `${entry.name} is not in its manifest`);
      const whole = entry.name.endsWith('.json');
      if (whole && entry.size > MAX_KEPT_JSON_BYTES) throw supportBundleTooLargeError(file, entry.name, MAX_KEPT_JSON_BYTES);
      const { sha256: digest, text } = await readMember(entry.body, whole ? Infinity : KEPT_TAIL_BYTES);
      if (digest !== listed.sha256)
        throw supportBundleInvalidError(file, `${entry.name} does not match its digest in the manifest (damaged)`);
      kept += text.length;
      if (kept > MAX_KEPT_TOTAL_BYTES) throw supportBundleTooLargeError(file, 'its JSON files together', MAX_KEPT_TOTAL_BYTES);
      files.set(entry.name, text);
    }
  } catch (error) {
    if (error instanceof TarFormatError) throw supportBundleInvalidError(file, error.message);
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw supportBundleInvalidError(file, 'there is no such file');
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw supportBundleInvalidError(file, 'it is a directory');
    throw error;
  }
  if (manifest === null) throw supportBundleInvalidError(file, 'it holds no manifest');
  const missing = manifest.files.find((f) => !files.has(f.path));
  if (missing) throw supportBundleInvalidError(file, `${missing.path}, listed in its manifest, is missing`);
  return { manifest, files };
}

/** A member's SHA-256 over all of it, and its text: whole, or its last `keep` bytes from the first line that starts there. */
async function readMember(body: AsyncIterable<Buffer>, keep: number): Promise<{ sha256: string; text: string }> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let held = 0;
  let cut = false;
  for await (const chunk of body) {
    hash.update(chunk);
    chunks.push(chunk);
    held += chunk.length;
    // Older chunks go once the newer ones alone hold what is kept.
    while (held - chunks[0]!.length >= keep) {
      held -= chunks.shift()!.length;
      cut = true;
    }
  }
  let tail = Buffer.concat(chunks);
  if (tail.length > keep) {
    tail = tail.subarray(tail.length - keep);
    cut = true;
  }
  if (cut) {
    // From the first whole line: a line (or a character's bytes) cut in half is not quoted.
    const newline = tail.indexOf(10);
    tail = newline === -1 ? Buffer.alloc(0) : tail.subarray(newline + 1);
  }
  return { sha256: hash.digest('hex'), text: tail.toString('utf8') };
}

function parseManifest(file: string, body: Buffer): SupportManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    throw supportBundleInvalidError(file, `its ${MANIFEST} is not JSON`);
  }
  const format = (raw as { format?: unknown } | null)?.format;
  if ((raw as { kind?: unknown } | null)?.kind === 'sutazai-support-bundle' && typeof format === 'number' && format > SUPPORT_FORMAT)
    throw supportBundleNewerError(file, format, SUPPORT_FORMAT);
  const parsed = SupportManifestSchema.safeParse(raw);
  if (!parsed.success)
    throw supportBundleInvalidError(file, `its ${MANIFEST} is not a support bundle's (${parsed.error.issues[0]?.message})`);
  return parsed.data;
}

function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}
