// Preloaded (`node --require`) into a daemon by a test: on SIGWINCH (default: ignored; the daemon gives SIGUSR1 and SIGUSR2 meanings of their own) it writes the daemon's
// process.moduleLoadList (Node's record of every built-in module and binding loaded so far)
// as JSON to the file named by SUTAZAI_TEST_MODULE_LIST, through a temp file and a rename so
// a reader never sees half of it.
'use strict';
const fs = process.getBuiltinModule('node:fs');
const file = process.env.SUTAZAI_TEST_MODULE_LIST;
if (file) {
  process.on('SIGWINCH', () => {
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(process.moduleLoadList));
    fs.renameSync(`${file}.tmp`, file);
  });
}
