// Preloaded (`node --require`) into a daemon by a test: follows the instances of the yaml library the
// daemon compiles (agents-runtime/src/yaml/yaml-on-demand.ts compiles each from its source as
// 'yaml-library.cjs'), each by a weak reference to its Document class, which every function of that
// instance keeps alive. On SIGWINCH it runs two full collections and writes
// `{ compiled, alive }` as JSON to the file named by SUTAZAI_TEST_YAML_INSTANCES, through a temp
// file and a rename so a reader never sees half of it.
'use strict';
const fs = process.getBuiltinModule('node:fs');
const v8 = process.getBuiltinModule('node:v8');
const vm = process.getBuiltinModule('node:vm');
const file = process.env.SUTAZAI_TEST_YAML_INSTANCES;
if (file) {
  const instances = [];
  const compileFunction = vm.compileFunction;
  vm.compileFunction = function (code, params, options) {
    const compiled = compileFunction.call(this, code, params, options);
    if (options?.filename !== 'yaml-library.cjs') return compiled;
    return function (exports, require, module) {
      const result = compiled.call(this, exports, require, module);
      instances.push(new WeakRef(module.exports.Document));
      return result;
    };
  };
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  process.on('SIGWINCH', () => {
    gc();
    gc();
    const alive = instances.filter((ref) => ref.deref() !== undefined).length;
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ compiled: instances.length, alive }));
    fs.renameSync(`${file}.tmp`, file);
  });
}
