// Preloaded (`node --require`) into a program under test: records which accessor properties
// of Node's built-in modules the program reads, and which of the internal modules that some
// of them load on first read are loaded, and prints both as one line on stderr at exit:
//   BUILTIN-READS {"reads":["fs.Dir",...],"loaded":["internal/crypto/webcrypto",...]}
// (crypto's accessors are not configurable: the internal module Web Crypto loads shows them.)
'use strict';
const MODULES = [
  'child_process',
  'crypto',
  'fs',
  'fs/promises',
  'http',
  'net',
  'os',
  'path',
  'perf_hooks',
  'stream',
  'string_decoder',
  'tls',
  'url',
  'v8',
  'vm',
];
const LAZY_INTERNALS = ['internal/crypto/webcrypto', 'internal/blocklist', 'internal/socketaddress', 'internal/fs/streams'];
const reads = [];
for (const name of MODULES) {
  const mod = process.getBuiltinModule(`node:${name}`);
  for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(mod))) {
    if (typeof descriptor.get !== 'function' || !descriptor.configurable) continue;
    Object.defineProperty(mod, key, {
      ...descriptor,
      get() {
        reads.push(`${name}.${key}`);
        return descriptor.get.call(this);
      },
    });
  }
}
process.on('exit', () => {
  const loaded = LAZY_INTERNALS.filter((internal) => process.moduleLoadList.includes(`NativeModule ${internal}`));
  process.stderr.write(`\nBUILTIN-READS ${JSON.stringify({ reads, loaded })}\n`);
});
