// Prints the native sources for binding.gyp: the same globs CMakeLists.txt uses.
const fs = require('node:fs');
const path = require('node:path');
const dirs = ['native/core', 'native/addon'];
const files = dirs.flatMap((d) =>
  fs
    .readdirSync(path.join(__dirname, '..', d))
    .filter((f) => f.endsWith('.cpp'))
    .sort()
    .map((f) => `${d}/${f}`),
);
process.stdout.write(files.join(' '));
